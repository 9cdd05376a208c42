import type { RegisteredFunction } from "./core-api.js";

interface Segment {
  literal?: string;
  param?: string;
  optional?: boolean;
  catchAll?: boolean;
  constraint?: string;
}

export interface HttpRoute {
  fn: RegisteredFunction;
  methods: Set<string> | undefined;
  segments: Segment[];
  template: string;
}

/** An HTTP trigger's route (default: the function name) under the host.json route prefix. */
export function buildRoute(fn: RegisteredFunction, routePrefix: string): HttpRoute {
  const route = typeof fn.trigger.route === "string" && fn.trigger.route !== "" ? fn.trigger.route : fn.name;
  const template = [routePrefix, route].filter((p) => p !== "").join("/");
  const segments = template
    .split("/")
    .filter((s) => s !== "")
    .map((part): Segment => {
      const match = /^\{(\*)?([A-Za-z0-9_-]+)(?::([^}?=]+))?(\?)?\}$/.exec(part);
      if (!match) return { literal: part.toLowerCase() };
      return {
        param: match[2] as string,
        catchAll: match[1] === "*",
        constraint: match[3],
        optional: match[4] === "?",
      };
    });
  const methods = Array.isArray(fn.trigger.methods)
    ? new Set((fn.trigger.methods as string[]).map((m) => m.toUpperCase()))
    : undefined;
  return { fn, methods, segments, template };
}

const constraints: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
};

/** Matches decoded path segments against a route; returns the route parameters or undefined. */
export function matchRoute(route: HttpRoute, pathSegments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let i = 0;
  for (const segment of route.segments) {
    if (segment.catchAll) {
      const rest = pathSegments.slice(i).join("/");
      if (rest !== "") params[segment.param as string] = rest;
      return params;
    }
    const value = pathSegments[i];
    if (value === undefined) {
      if (segment.optional) continue;
      return undefined;
    }
    if (segment.literal !== undefined) {
      if (value.toLowerCase() !== segment.literal) return undefined;
    } else {
      const constraint = segment.constraint ? constraints[segment.constraint.toLowerCase()] : undefined;
      if (constraint && !constraint.test(value)) return undefined;
      params[segment.param as string] = value;
    }
    i++;
  }
  return i === pathSegments.length ? params : undefined;
}
