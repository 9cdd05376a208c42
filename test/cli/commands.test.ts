import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from "../../src/cli/main.js";
import { captureStream, type RecordedRequest, startRecordingServer } from "./helpers.js";

const statusBody = (runtimeStatus: string, done: number) => ({
  projectId: "my-book",
  instanceId: "tts-my-book",
  runtimeStatus,
  phase: runtimeStatus === "Completed" ? "done" : "synthesizing",
  chapters: { total: 3, succeeded: done, failed: 0, rejected: 0, unchanged: 0, pending: 3 - done },
  jobs: {
    submitted: 1,
    running: runtimeStatus === "Completed" ? 0 : 1,
    succeeded: done === 3 ? 1 : 0,
    failed: 0,
  },
  createdTime: "2026-11-25T12:00:00Z",
  lastUpdatedTime: "2026-11-25T12:00:05Z",
  manifestBlob: "audio/my-book/manifest.json",
});

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let statusCalls = 0;

function route(req: RecordedRequest): { status: number; body?: unknown } {
  if (req.url.startsWith("/api/projects/bad-body/synthesis")) {
    return {
      status: 400,
      body: {
        error: { code: "invalid-body", message: "Unknown field 'voices'.", details: [{ path: "voices" }] },
      },
    };
  }
  if (req.url.startsWith("/api/projects/busy-book/synthesis") && req.method === "POST") {
    return { status: 409, body: { id: "tts-busy-book", statusQueryGetUri: "http://x/status" } };
  }
  if (req.url === "/api/projects/my-book/synthesis" && req.method === "POST") {
    return { status: 202, body: { id: "tts-my-book", statusQueryGetUri: "http://x/status" } };
  }
  if (req.url === "/api/projects/my-book/synthesis" && req.method === "GET") {
    statusCalls += 1;
    return {
      status: 200,
      body: statusBody(statusCalls >= 3 ? "Completed" : "Running", Math.min(3, statusCalls)),
    };
  }
  if (req.url === "/api/projects/my-book/synthesis" && req.method === "DELETE") return { status: 202 };
  if (req.url === "/api/projects/done-book/synthesis" && req.method === "DELETE") {
    // What the API answers for a run that already ended (src/http/synthesis.ts cancelSynthesis).
    return {
      status: 202,
      body: {
        projectId: "done-book",
        instanceId: "tts-done-book",
        runtimeStatus: "Completed",
        cancelled: false,
        deletedJobs: 0,
      },
    };
  }
  if (req.url === "/api/projects/my-book/estimate") {
    return {
      status: 200,
      body: {
        projectId: "my-book",
        chapters: 3,
        characters: 1200,
        billableCharacters: 1300,
        rejected: [{ chapterId: "ch3", reason: "empty" }],
        unchanged: 0,
        plannedJobs: 1,
        estimatedCost: { amount: 0.0195, currency: "USD", pricePerMillionCharacters: 15 },
        estimatedAudioMinutes: 1.4,
      },
    };
  }
  return { status: 404, body: { error: { code: "not-found", message: "No such project." } } };
}

async function cli(...argv: string[]) {
  const out = captureStream();
  const err = captureStream();
  const code = await runCli(["--api", server.url, ...argv], {
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    cwd: process.cwd(),
    tty: false,
    sleep: async () => {},
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

beforeAll(async () => {
  server = await startRecordingServer(route);
});
afterAll(async () => {
  await server.close();
});

describe("tts-pipeline start", () => {
  it("sends only the options given, with the function key header", async () => {
    const before = server.requests.length;
    const result = await cli(
      "--key",
      "sekrit-key",
      "start",
      "my-book",
      "--voice",
      "en-GB-SoniaNeural",
      "--format",
      "riff-24khz-16bit-mono-pcm",
      "--mode",
      "realtime",
      "--max-chapters-per-job",
      "8",
      "--max-concurrent-jobs",
      "2",
      "--no-word-boundaries",
      "--chapters",
      "ch1, ch10",
      "--force",
    );
    expect(result.code).toBe(EXIT_OK);
    const req = server.requests[before]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/api/projects/my-book/synthesis");
    expect(req.headers["x-functions-key"]).toBe("sekrit-key");
    expect(JSON.parse(req.body)).toEqual({
      voice: "en-GB-SoniaNeural",
      outputFormat: "riff-24khz-16bit-mono-pcm",
      mode: "realtime",
      maxChaptersPerJob: 8,
      maxConcurrentJobs: 2,
      wordBoundaries: false,
      chapters: ["ch1", "ch10"],
      force: true,
    });
    expect(result.stdout).toContain("Started tts-my-book");
    expect(result.stdout + result.stderr).not.toContain("sekrit-key");
  });

  it("sends an empty body when no option is given, so project.json and settings decide", async () => {
    const before = server.requests.length;
    expect((await cli("start", "my-book")).code).toBe(EXIT_OK);
    expect(JSON.parse(server.requests[before]!.body)).toEqual({});
  });

  it("rejects bad arguments before any request, with exit code 2", async () => {
    const before = server.requests.length;
    for (const argv of [
      ["start", "Not_A_Project"],
      ["start", "my-book", "--mode", "streaming"],
      ["start", "my-book", "--max-concurrent-jobs", "0"],
      ["start", "my-book", "--max-chapters-per-job", "2.5"],
      ["start", "my-book", "--chapters", " , "],
      ["upload", "samples/book"],
      ["launch", "my-book"],
    ]) {
      const result = await cli(...argv);
      expect(result.code, argv.join(" ")).toBe(EXIT_USAGE);
      expect(result.stderr, argv.join(" ")).toMatch(/error:/);
    }
    expect(server.requests.length).toBe(before);
  });

  it("prints the API's error code and message, and exits 1", async () => {
    const result = await cli("start", "bad-body", "--voice", "x");
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toContain("error: invalid-body (HTTP 400): Unknown field 'voices'.");
    expect(result.stderr).toContain('"path": "voices"');
  });

  it("reports a project that is already running", async () => {
    const result = await cli("start", "busy-book");
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toContain("error: already-running (HTTP 409): already running as tts-busy-book");
  });

  it("explains an unreachable API", async () => {
    const out = captureStream();
    const err = captureStream();
    const code = await runCli(["--api", "http://127.0.0.1:9", "status", "my-book"], {
      stdout: out.stream,
      stderr: err.stream,
      env: {},
      tty: false,
    });
    expect(code).toBe(EXIT_FAILED);
    expect(err.text()).toMatch(/error: unreachable: Cannot reach the API at http:\/\/127\.0\.0\.1:9/);
  });
});

describe("tts-pipeline status, estimate, cancel", () => {
  it("status --watch follows the run to the end without bar spam when not on a terminal", async () => {
    statusCalls = 0;
    const result = await cli("status", "my-book", "--watch", "--interval", "1");
    expect(result.code).toBe(EXIT_OK);
    expect(statusCalls).toBe(3);
    expect(result.stdout).toContain("tts-my-book: Completed (done): chapters 3/3");
    expect(result.stdout).toContain("manifest: audio/my-book/manifest.json");
    // One plain line per visible change, no carriage-return redraws.
    expect(result.stderr).not.toContain("\r");
    expect(result.stderr.trim().split("\n").length).toBeLessThanOrEqual(3);
  });

  it("status --json prints the API's status", async () => {
    const result = await cli("--json", "status", "my-book");
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ instanceId: "tts-my-book", chapters: { total: 3 } });
  });

  it("status of an unknown project prints the 404 error", async () => {
    const result = await cli("status", "never-started");
    expect(result.code).toBe(EXIT_FAILED);
    expect(result.stderr).toContain("error: not-found (HTTP 404): No such project.");
  });

  it("estimate prints chapters, cost and rejected chapters", async () => {
    const result = await cli("estimate", "my-book");
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/planned batch jobs:\s+1/);
    expect(result.stdout).toContain("0.02 USD at 15 per million characters");
    expect(result.stdout).toContain("rejected: ch3: empty");
  });

  it("cancel sends DELETE", async () => {
    const before = server.requests.length;
    const result = await cli("cancel", "my-book");
    expect(result.code).toBe(EXIT_OK);
    expect(server.requests[before]).toMatchObject({
      method: "DELETE",
      url: "/api/projects/my-book/synthesis",
    });
    expect(result.stdout).toContain("Cancel requested for my-book.");
  });

  it("cancel of a run that already ended says so instead of claiming a cancel", async () => {
    const result = await cli("cancel", "done-book");
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).not.toContain("Cancel requested");
    expect(result.stdout).toContain("done-book is not running (Completed); nothing to cancel.");
  });
});
