import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Decodes MP3 to WAV with Debian `lame` when it is installed (CI installs it); undefined otherwise. */
export function decodeMp3WithLame(mp3: Buffer): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), "tts-lame-test-"));
  try {
    writeFileSync(join(dir, "in.mp3"), mp3);
    execFileSync("lame", ["--quiet", "--decode", join(dir, "in.mp3"), join(dir, "out.wav")], {
      stdio: "ignore",
    });
    return readFileSync(join(dir, "out.wav"));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
