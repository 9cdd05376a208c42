import { describe, expect, it } from "vitest";
import type { RegisteredFunction } from "../../tools/local-host/core-api.js";
import { buildRoute, matchRoute } from "../../tools/local-host/routes.js";

function fn(name: string, trigger: Record<string, unknown>): RegisteredFunction {
  const binding = { type: "httpTrigger", direction: "in" as const, ...trigger };
  return {
    name,
    metadata: { name, bindings: { req: binding } },
    handler: () => undefined,
    triggerName: "req",
    trigger: binding,
  };
}

describe("local host HTTP routes", () => {
  it("uses the function name under the route prefix by default", () => {
    const route = buildRoute(fn("Hello", {}), "api");
    expect(matchRoute(route, ["api", "hello"])).toEqual({});
    expect(matchRoute(route, ["api", "hello", "x"])).toBeUndefined();
    expect(route.methods).toBeUndefined();
  });

  it("binds parameters, optional parameters, constraints and catch-alls", () => {
    const route = buildRoute(
      fn("S", { route: "projects/{projectId}/synthesis/{part?}", methods: ["get", "POST"] }),
      "api",
    );
    expect(matchRoute(route, ["api", "projects", "book-1", "synthesis"])).toEqual({ projectId: "book-1" });
    expect(matchRoute(route, ["api", "Projects", "b", "synthesis", "x"])).toEqual({
      projectId: "b",
      part: "x",
    });
    expect([...(route.methods ?? [])]).toEqual(["GET", "POST"]);
    const numeric = buildRoute(fn("N", { route: "items/{id:int}" }), "");
    expect(matchRoute(numeric, ["items", "42"])).toEqual({ id: "42" });
    expect(matchRoute(numeric, ["items", "abc"])).toBeUndefined();
    const rest = buildRoute(fn("R", { route: "files/{*path}" }), "api");
    expect(matchRoute(rest, ["api", "files", "a", "b.txt"])).toEqual({ path: "a/b.txt" });
  });
});
