/**
 * `npm run bench -- speech-download [--inputs 1000] [--chars 600] [--format audio-24khz-96kbitrate-mono-mp3]
 * [--discard]`: the Batch Synthesis client downloads and unpacks a 1,000-input job from the Speech emulator.
 *
 * The emulator runs in a child process (fast audio, time scale 1000) so this process's memory is the
 * client's alone. RSS is sampled every 10 ms from just before `openResults` to the last entry unpacked;
 * `peakRssGrowthMB` is the peak minus that baseline (target: under 100 MB, whatever the job size).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AzureKeyCredential } from "@azure/core-auth";
import {
  BatchSynthesisClient,
  getOutputFormat,
  isTerminalStatus,
  makeSynthesisId,
} from "../../../src/speech/index.js";
import { getFreePort } from "../../shared/ports.js";
import { waitFor } from "../../shared/waitFor.js";

const MB = 1024 * 1024;
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Deterministic prose of about `chars` characters. */
function inputText(n: number, chars: number): string {
  const words = [
    "river",
    "lantern",
    "salt",
    "ledger",
    "harbor",
    "quiet",
    "morning",
    "stone",
    "letter",
    "window",
  ];
  let text = `Chapter ${n}. `;
  for (let i = 0; text.length < chars; i++) {
    text += `${words[(n + i) % words.length]}${i % 9 === 8 ? ". " : " "}`;
  }
  return `${text.trim()}.`;
}

async function startEmulatorProcess(key: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await getFreePort();
  const child = spawn(process.execPath, ["--import", "tsx", "tools/emulator/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      EMULATOR_KEY: key,
      EMULATOR_AUDIO: "fast",
      EMULATOR_TIME_SCALE: "1000",
      LOCAL_STATE_DIR: "",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`emulator exited with ${child.exitCode}`);
      const res = await fetch(`${url}/emulator/usage`, { headers: { "Ocp-Apim-Subscription-Key": key } });
      await res.arrayBuffer();
      return res.ok;
    },
    { timeoutMs: 60_000, intervalMs: 100, description: "the Speech emulator to answer" },
  );
  return { url, child };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: {
      inputs: { type: "string", default: "1000" },
      chars: { type: "string", default: "600" },
      format: { type: "string", default: "audio-24khz-96kbitrate-mono-mp3" },
      discard: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const inputs = Number(values.inputs);
  const chars = Number(values.chars);
  const format = getOutputFormat(values.format ?? "");
  const key = "bench-key";
  const { url, child } = await startEmulatorProcess(key);
  const outDir = await mkdtemp(join(tmpdir(), "tts-bench-download-"));
  try {
    const client = new BatchSynthesisClient(url, new AzureKeyCredential(key));
    const id = makeSynthesisId({
      projectId: "bench",
      runId: `download-${Date.now()}`,
      jobNumber: 1,
      attempt: 1,
    });
    process.stderr.write(
      `speech-download: creating a ${inputs}-input job (${chars} characters each, ${format.name})\n`,
    );
    await client.createSynthesis(id, {
      inputKind: "PlainText",
      synthesisConfig: { voice: "en-US-AvaMultilingualNeural" },
      inputs: Array.from({ length: inputs }, (_, i) => ({ content: inputText(i + 1, chars) })),
      properties: { outputFormat: format.name, wordBoundaryEnabled: true },
    });
    const job = await waitFor(
      async () => {
        const j = await client.getSynthesis(id);
        return isTerminalStatus(j.status) ? j : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 250, description: "the job to finish" },
    );
    if (job.status !== "Succeeded") throw new Error(`job ${id} ended ${job.status}`);

    global.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);

    const started = performance.now();
    const results = await client.openResults(job);
    const downloaded = performance.now();
    let bytes = 0;
    let entries = 0;
    let failed = 0;
    let words = 0;
    try {
      for await (const entry of results.entries()) {
        entries++;
        if (entry.status !== "Succeeded") {
          failed++;
          continue;
        }
        const audio = await entry.openAudio();
        audio.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        const sink = values.discard
          ? new Writable({ write: (_chunk, _enc, done) => done() })
          : createWriteStream(join(outDir, entry.audioFileName ?? `${entry.index}.${format.extension}`));
        await pipeline(audio, sink);
        words += (await entry.readWordBoundaries())?.length ?? 0;
      }
    } finally {
      await results.close();
    }
    const finished = performance.now();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    await client.deleteSynthesis(id);

    const wallSeconds = (finished - started) / 1000;
    return {
      inputs: entries,
      failedInputs: failed,
      bytes,
      wallSeconds: Number(wallSeconds.toFixed(3)),
      downloadSeconds: Number(((downloaded - started) / 1000).toFixed(3)),
      unpackSeconds: Number(((finished - downloaded) / 1000).toFixed(3)),
      mbPerSecond: Number((bytes / MB / wallSeconds).toFixed(1)),
      peakRssGrowthMB: Number(((peak - baseline) / MB).toFixed(1)),
      baselineRssMB: Number((baseline / MB).toFixed(1)),
      wordBoundaries: words,
      outputFormat: format.name,
      unpackedTo: values.discard ? "discarded" : "temp dir (deleted after)",
    };
  } finally {
    child.kill("SIGTERM");
    await rm(outDir, { recursive: true, force: true });
  }
}
