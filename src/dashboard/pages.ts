import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { escapeXml } from "../text/ssml.js";

/**
 * The dashboard's HTML shells and static assets. The pages are plain HTML; `public/dashboard/*.js` fills
 * them from the JSON API. Everything is served by the app itself (no CDN), under a strict
 * Content-Security-Policy: scripts, styles, media and requests from the app's own origin only, no inline
 * script or style (see docs/dashboard.md).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  // Page URLs may carry the function key (`?code=`): never send them on as a referrer.
  "referrer-policy": "no-referrer",
};

/** `public/dashboard`, found from this module in `src/dashboard` (tsx) and `dist/src/dashboard` (built). */
function findAssetsDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, "public", "dashboard");
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error("public/dashboard not found next to the app.");
}

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
const ASSET_NAME = /^[a-z0-9-]+\.(js|css|svg)$/;
const assetCache = new Map<string, Buffer>();

/** A static asset by file name (no paths), or undefined. Cached per worker: assets ship with the app. */
export async function readAsset(name: string): Promise<{ body: Buffer; contentType: string } | undefined> {
  if (!ASSET_NAME.test(name)) return undefined;
  let body = assetCache.get(name);
  if (!body) {
    try {
      body = await readFile(path.join(findAssetsDir(), name));
    } catch {
      return undefined;
    }
    assetCache.set(name, body);
  }
  return { body, contentType: CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream" };
}

function shell(options: {
  title: string;
  apiBase: string;
  script: string;
  projectId?: string;
  main: string;
}) {
  const asset = (name: string) => `${options.apiBase}/dashboard/assets/${name}`;
  const project = options.projectId ? ` data-project="${escapeXml(options.projectId)}"` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(options.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset("dashboard.css")}">
<script type="module" src="${asset(options.script)}"></script>
</head>
<body data-api="${escapeXml(options.apiBase)}"${project}>
<a class="skip" href="#main">Skip to content</a>
${options.main}
</body>
</html>
`;
}

/** `GET /api/dashboard`: the projects page. */
export function projectsPage(apiBase: string): string {
  return shell({
    title: "Projects · tts-pipeline",
    apiBase,
    script: "projects.js",
    main: `<header class="bar"><h1>Projects</h1><p class="muted">tts-pipeline dashboard</p></header>
<main id="main">
<p id="status" class="status" role="status" aria-live="polite">Loading projects…</p>
<div class="table-wrap">
<table id="projects" class="projects">
<caption class="sr-only">Every project in the chapters container with its last run</caption>
<thead><tr><th scope="col">Project</th><th scope="col">Phase</th><th scope="col">Done / total</th><th scope="col">Failures</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Characters billed</th><th scope="col">Cost</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody></tbody>
</table>
</div>
<dialog id="confirm" aria-labelledby="confirm-title">
<form method="dialog">
<h2 id="confirm-title"></h2>
<div id="confirm-body"></div>
<div class="actions"><button value="cancel" type="submit" class="secondary">Back</button> <button value="ok" id="confirm-ok" type="submit">Confirm</button></div>
</form>
</dialog>
</main>`,
  });
}

/** `GET /api/dashboard/{projectId}`: one project's run. */
export function projectPage(apiBase: string, projectId: string): string {
  return shell({
    title: `${projectId} · tts-pipeline`,
    apiBase,
    script: "project.js",
    projectId,
    main: `<header class="bar"><p><a id="back" href="${escapeXml(apiBase)}/dashboard">← Projects</a></p>
<h1>${escapeXml(projectId)}</h1>
<p id="run" class="muted" role="status" aria-live="polite">Loading…</p>
<p><button id="cancel" type="button" class="danger" hidden>Cancel run</button></p>
</header>
<main id="main">
<section aria-labelledby="counters-title"><h2 id="counters-title" class="sr-only">Counters</h2>
<progress id="progress" max="1" value="0" aria-label="Chapters finished"></progress>
<dl id="counters" class="counters"></dl>
</section>
<section aria-labelledby="chapters-title" class="chapters">
<div class="grid-head"><h2 id="chapters-title">Chapters</h2>
<label><input type="checkbox" id="failed-only"> Failed only</label></div>
<ul id="legend" class="legend" aria-label="Legend"></ul>
<div id="grid" class="grid" role="listbox" tabindex="0" aria-labelledby="chapters-title" aria-describedby="grid-help"></div>
<p id="grid-help" class="muted small">Arrow keys, Home and End move between chapters; Enter plays the chapter.</p>
</section>
<section aria-labelledby="detail-title" class="detail">
<h2 id="detail-title">Chapter</h2>
<div id="detail" aria-live="polite"><p class="muted">Hover, click or move to a chapter for its details.</p></div>
<div id="player" class="player" hidden>
<audio id="audio" controls preload="metadata"></audio>
<p id="cue" class="cue" aria-live="off"></p>
</div>
</section>
<section aria-labelledby="jobs-title" class="jobs">
<h2 id="jobs-title">Jobs</h2>
<div id="timeline" class="timeline"></div>
<details><summary>Jobs as a table</summary><div id="jobs-table"></div></details>
</section>
</main>`,
  });
}
