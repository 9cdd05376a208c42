import { spawn } from "node:child_process";

/** Debian tools the emulator uses when present (checked once per process). */
export interface AudioTools {
  espeak: boolean;
  sox: boolean;
  lame: boolean;
  /** espeak-ng voice (language) names, e.g. "en-us", "de". */
  espeakLanguages: Set<string>;
}

let cached: Promise<AudioTools> | undefined;

/** Runs a command, resolving with its stdout, or undefined when it is missing or fails. */
export function tryRun(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = "";
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => resolve(code === 0 ? out : undefined));
  });
}

export function detectAudioTools(): Promise<AudioTools> {
  cached ??= (async () => {
    const [voices, sox, lame] = await Promise.all([
      tryRun("espeak-ng", ["--voices"]),
      tryRun("sox", ["--version"]),
      tryRun("lame", ["--version"]),
    ]);
    const espeakLanguages = new Set<string>();
    for (const line of (voices ?? "").split("\n").slice(1)) {
      const language = line.trim().split(/\s+/)[1];
      if (language) espeakLanguages.add(language.toLowerCase());
    }
    return {
      espeak: voices !== undefined,
      sox: sox !== undefined,
      lame: lame !== undefined,
      espeakLanguages,
    };
  })();
  return cached;
}

/** Picks the espeak-ng voice closest to a BCP-47 language ("en-US" -> "en-us", "de-DE" -> "de"). */
export function espeakVoiceFor(language: string, available: Set<string>): string {
  const lower = language.toLowerCase();
  const primary = lower.split("-")[0] ?? "en";
  const aliases: Record<string, string> = {
    zh: "cmn",
    "zh-cn": "cmn",
    "zh-hk": "yue",
    "fr-fr": "fr-fr",
    fr: "fr-fr",
  };
  for (const candidate of [lower, aliases[lower], aliases[primary], primary]) {
    if (candidate && available.has(candidate)) return candidate;
  }
  return available.has("en-us") ? "en-us" : "en";
}
