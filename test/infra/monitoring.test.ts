import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activityEvents } from "../../src/observability/activityEvents.js";
import { EVENT_PREFIX, formatEvent, type PipelineEvent } from "../../src/observability/events.js";
import { build, findBicepCli, repoRoot } from "./bicepCli.js";

/**
 * The workbook and alert queries (infra/modules/queries/*.kql) against the events the code really writes:
 * the prefix and JSON extraction match formatEvent's lines, and every field a query reads (`d.<field>`)
 * is one some event carries. Then the compiled ARM: main.bicep deploys the workbook and both alert rules.
 */
const queriesDir = join(repoRoot, "infra/modules/queries");
const queries = Object.fromEntries(
  readdirSync(queriesDir).map((f) => [f, readFileSync(join(queriesDir, f), "utf8")] as const),
);

const ref = { projectId: "book", runId: "r1", jobNumber: 1 };
const samples: PipelineEvent[] = [
  activityEvents.submit({ ...ref, attempt: 1 }, { submitted: true, synthesisId: "s1", status: "NotStarted" }),
  activityEvents.check({ synthesisId: "s1" }, { status: "Failed", error: "InternalServerError: x" }),
  activityEvents.collect(
    { ...ref, synthesisId: "s1", jobError: "failed" },
    {
      succeeded: 1,
      failed: 1,
      retry: 1,
      realtime: 1,
      audioDurationMs: 1000,
      billableCharacters: 10,
      speechRequests: 1,
    },
  ),
  ...activityEvents.realtime(ref, {
    chapterId: "c",
    jobNumber: 1,
    attempts: 2,
    mode: "realtime",
    status: "failed",
    reason: "x",
  }),
  activityEvents.manifest(
    {
      projectId: "book",
      runId: "r1",
      startedAt: "2026-01-01T00:00:00Z",
      completedAt: "2026-01-01T00:01:00Z",
    },
    {
      chapters: 1,
      succeeded: 1,
      failed: 0,
      rejected: 0,
      unchanged: 0,
      pending: 0,
      billableCharacters: 1,
      audioDurationMs: 1,
      batchJobs: 1,
      speechRequests: 1,
      startedAt: "2026-01-01T00:00:00Z",
      completedAt: "2026-01-01T00:01:00Z",
    },
  ),
];

describe("KQL queries against the events the activities write", () => {
  const eventsKql = queries["events.kql"] as string;

  it("filter on the event prefix and extract the JSON the way the lines are written", () => {
    expect(eventsKql).toContain(`where message startswith "${EVENT_PREFIX}"`);
    const pattern = /extract\(@"(.+?)", 1, message\)/.exec(eventsKql)?.[1];
    expect(pattern).toBeDefined();
    const regex = new RegExp(pattern as string);
    for (const event of samples) {
      const line = formatEvent(event);
      const json = regex.exec(line)?.[1];
      expect(JSON.parse(json as string)).toMatchObject({ event: event.event });
    }
  });

  it("read only fields some event carries, and event names the code emits", () => {
    const emitted = new Set(samples.flatMap((e) => Object.keys(e)));
    const names = new Set(samples.map((e) => e.event));
    for (const [file, kql] of Object.entries(queries)) {
      for (const [, field] of kql.matchAll(/\bd\.(\w+)/g))
        expect(emitted, `${file}: d.${field}`).toContain(field);
      for (const [, name] of kql.matchAll(/"((?:run|job|chapter)\.[a-z-]+)"/g)) {
        expect(names, `${file}: ${name}`).toContain(name);
      }
    }
  });
});

const discovery = findBicepCli();
describe.skipIf(!discovery.cli)("workbook and alerts in the compiled infra", () => {
  let outDir = "";
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "bicep-monitoring-"));
    const runs = await build(
      discovery.cli!,
      ["infra/main.bicep", "infra/modules/workbook.bicep", "infra/modules/alerts.bicep"],
      repoRoot,
      outDir,
    );
    for (const run of runs) expect(run.status, run.output).toBe(0);
  }, 180_000);
  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  // biome-ignore lint/suspicious/noExplicitAny: compiled ARM JSON is checked field by field
  const template = (name: string): any => JSON.parse(readFileSync(join(outDir, name), "utf8"));
  // biome-ignore lint/suspicious/noExplicitAny: compiled ARM JSON is checked field by field
  const resourcesOf = (t: any): any[] =>
    Array.isArray(t.resources) ? t.resources : Object.values(t.resources);

  it("main.bicep deploys the workbook and the alert rules against Application Insights", () => {
    const main = template("main.json");
    const deployments = resourcesOf(main).filter((r) => r.type === "Microsoft.Resources/deployments");
    const workbook = deployments.find((d) => d.name === "workbook");
    const alerts = deployments.find((d) => d.name === "alerts");
    expect(resourcesOf(workbook.properties.template).map((r) => r.type)).toContain(
      "Microsoft.Insights/workbooks",
    );
    expect(resourcesOf(alerts.properties.template).map((r) => r.type)).toEqual(
      expect.arrayContaining(["Microsoft.Insights/scheduledQueryRules", "Microsoft.Insights/actionGroups"]),
    );
    expect(main.parameters.alertEmailAddress.defaultValue).toBe("");
  });

  it("the two alert rules query the failed orchestrations and the chapters failed after fallback", () => {
    const compiled = JSON.stringify(template("modules/alerts.json"));
    expect(compiled).toContain('prop__state) == \\"Failed\\"');
    expect(compiled).toContain('where event == \\"chapter.failed\\"');
    expect(compiled).toContain("orchestration-failed");
    expect(compiled).toContain("chapters-failed-after-fallback");
  });

  it("the workbook holds the runs, jobs, failures, orchestrations and throughput sections", () => {
    const compiled = JSON.stringify(template("modules/workbook.json"));
    for (const section of ["runs", "jobs", "failures", "orchestrations", "throughput"]) {
      expect(compiled).toContain(`"name":"${section}"`);
    }
    expect(compiled).toContain("Notebook/1.0");
  });
});
