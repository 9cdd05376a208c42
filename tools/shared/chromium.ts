import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

/** Where the Debian `chromium` package puts the browser (`.ci/run` installs it); `CHROMIUM_PATH` overrides. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Headless Chromium driven over the DevTools protocol by puppeteer-core (no bundled browser download). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error("Chromium not found: install the `chromium` package or set CHROMIUM_PATH.");
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: [
      // Containers run as root without user namespaces: the sandbox cannot start there.
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--autoplay-policy=no-user-gesture-required",
      "--mute-audio",
    ],
  });
}
