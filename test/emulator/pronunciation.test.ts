import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, download, ssml, unzip, waitForTerminal } from "./helpers.js";

const PLS = `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tingen</grapheme><alias>Ting gen city</alias></lexeme>
</lexicon>`;

/** A lexicon host: serves the PLS at /lexicon.pls only with ?sig=ok (like a SAS), 403 otherwise. */
function startLexiconHost(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/lexicon.pls" && url.searchParams.get("sig") === "ok") {
      res.writeHead(200, { "content-type": "application/pls+xml" }).end(PLS);
    } else {
      res.writeHead(403).end("AuthenticationFailed");
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe("Speech emulator: aliases, phonemes and custom lexicons", () => {
  let emulator: TestEmulator;
  let host: { server: Server; url: string };
  beforeAll(async () => {
    [emulator, host] = await Promise.all([startTestEmulator(), startLexiconHost()]);
  });
  afterAll(async () => {
    await emulator?.stop();
    await new Promise((resolve) => host?.server.close(resolve));
  });

  async function words(id: string, contents: string[]) {
    const api = client(emulator);
    const put = await api.put(id, {
      inputKind: "SSML",
      inputs: contents.map((content) => ({ content })),
      properties: { outputFormat: "riff-24khz-16bit-mono-pcm", wordBoundaryEnabled: true },
    });
    expect(put.status).toBe(201);
    const job = await waitForTerminal(emulator, id);
    const files = await unzip(await download(job.outputs?.result as string));
    const summary = JSON.parse(files.get("summary.json")?.toString("utf8") ?? "{}") as {
      results: { status: string; contents: string[] }[];
    };
    const boundaries = (n: number) => {
      const file = files.get(`${String(n).padStart(4, "0")}.word.json`);
      return file ? (JSON.parse(file.toString("utf8")) as { Text: string }[]).map((w) => w.Text) : undefined;
    };
    return { job, summary, boundaries };
  }

  it("speaks a sub alias and phoneme phones in place of the written words", async () => {
    const { boundaries } = await words("pron-inline", [
      ssml(
        'I met <sub alias="Mo Retti">Moretti</sub> in <phoneme alphabet="ipa" ph="ˈtɪŋən">Tingen</phoneme>.',
      ),
    ]);
    expect(boundaries(1)).toEqual(["I", "met", "Mo", "Retti", "in", "ˈtɪŋən", "."]);
  });

  it("applies a lexicon it can fetch, and fails only the input whose lexicon it cannot", async () => {
    const good = `<lexicon uri="${host.url}/lexicon.pls?sig=ok&amp;sp=r"/>`;
    const bad = `<lexicon uri="${host.url}/lexicon.pls?sig=expired"/>`;
    const { job, boundaries } = await words("pron-lexicon", [
      ssml(`${good}Back to Tingen, not Tingens.`),
      ssml(`${bad}Back to Tingen.`),
    ]);
    expect(job.status).toBe("Succeeded");
    expect(job.properties.succeededAudioCount).toBe(1);
    expect(job.properties.failedAudioCount).toBe(1);
    expect(boundaries(1)).toEqual(["Back", "to", "Ting", "gen", "city", ",", "not", "Tingens", "."]);
    expect(boundaries(2)).toBeUndefined();
  });

  it("refuses a realtime request whose lexicon cannot be fetched, without echoing the SAS", async () => {
    const response = await fetch(`${emulator.url}/cognitiveservices/v1`, {
      method: "POST",
      headers: {
        "Ocp-Apim-Subscription-Key": emulator.key,
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
      },
      body: ssml(`<lexicon uri="${host.url}/lexicon.pls?sig=secret-signature"/>Tingen.`),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain("InvalidLexicon");
    expect(text).toContain("HTTP 403");
    expect(text).not.toContain("secret-signature");
    const fine = await fetch(`${emulator.url}/cognitiveservices/v1`, {
      method: "POST",
      headers: {
        "Ocp-Apim-Subscription-Key": emulator.key,
        "Content-Type": "application/ssml+xml",
        "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
      },
      body: ssml(`<lexicon uri="${host.url}/lexicon.pls?sig=ok"/>Tingen.`),
    });
    expect(fine.status).toBe(200);
  });
});
