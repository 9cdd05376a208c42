// Project page: one cell per chapter (one innerHTML build, one delegated listener set), a job timeline,
// counters with ETA and cost, a player streaming the chapter's audio through the app.
import {
  ACTIVE,
  ApiError,
  api,
  apiUrl,
  esc,
  fmtDuration,
  fmtMoney,
  fmtNumber,
  fmtTime,
  poll,
} from "./common.js";

const REFRESH_MS = 3000;
const projectId = document.body.dataset.project;
const projectRoute = `/projects/${encodeURIComponent(projectId)}`;

/** Colour is never the only signal: every status has a letter (and failed/rejected a pattern in CSS). */
const STATUSES = {
  pending: { letter: "P", label: "Pending" },
  running: { letter: "R", label: "Running" },
  succeeded: { letter: "S", label: "Succeeded" },
  unchanged: { letter: "U", label: "Unchanged" },
  failed: { letter: "F", label: "Failed" },
  rejected: { letter: "X", label: "Rejected" },
};

const grid = document.getElementById("grid");
const detail = document.getElementById("detail");
const runLine = document.getElementById("run");
const countersEl = document.getElementById("counters");
const progressEl = document.getElementById("progress");
const failedOnly = document.getElementById("failed-only");
const timeline = document.getElementById("timeline");
const jobsTable = document.getElementById("jobs-table");
const cancelButton = document.getElementById("cancel");
const player = document.getElementById("player");
const audio = document.getElementById("audio");
const cue = document.getElementById("cue");

// The way back keeps the function key, like every link the pages make.
document.getElementById("back").href = apiUrl("/dashboard");

let view;
/** Indices (into view.chapters) of the cells on the grid, in order. */
let visible = [];
/** Per rendered cell: the signature it was drawn with, to patch only what changed on a refresh. */
let drawn = [];
let activePos = -1;

document.getElementById("legend").innerHTML = Object.entries(STATUSES)
  .map(([key, s]) => `<li><span class="cell s-${key}" aria-hidden="true">${s.letter}</span> ${s.label}</li>`)
  .join("");

function cellLabel(c) {
  const status = STATUSES[c.status]?.label ?? c.status;
  return c.status === "running" && c.job ? `${c.id}: ${status} in job ${c.job}` : `${c.id}: ${status}`;
}
const signature = (c) => `${c.status}|${c.job ?? ""}`;

function cellHtml(c, pos) {
  const active = pos === activePos;
  return `<div role="option" id="cell-${pos}" data-pos="${pos}" class="cell s-${c.status}${active ? " active" : ""}" aria-selected="${active}" aria-label="${esc(cellLabel(c))}">${STATUSES[c.status]?.letter ?? "?"}</div>`;
}

/** Draws the grid: one innerHTML build when the set of cells changes, else patches the changed cells. */
function renderGrid() {
  const chapters = view.chapters;
  const next = failedOnly.checked
    ? chapters.flatMap((c, i) => (c.status === "failed" ? [i] : []))
    : chapters.map((_, i) => i);
  const sameSet = next.length === visible.length && next.every((v, k) => v === visible[k]);
  if (!sameSet) {
    visible = next;
    if (activePos >= visible.length) activePos = visible.length - 1;
    const parts = new Array(visible.length);
    for (let pos = 0; pos < visible.length; pos++) parts[pos] = cellHtml(chapters[visible[pos]], pos);
    grid.innerHTML =
      parts.join("") ||
      `<p class="muted">${failedOnly.checked ? "No failed chapters." : "No chapters yet."}</p>`;
    drawn = visible.map((i) => signature(chapters[i]));
  } else {
    for (let pos = 0; pos < visible.length; pos++) {
      const c = chapters[visible[pos]];
      const sig = signature(c);
      if (sig === drawn[pos]) continue;
      drawn[pos] = sig;
      const el = document.getElementById(`cell-${pos}`);
      el.className = `cell s-${c.status}${pos === activePos ? " active" : ""}`;
      el.textContent = STATUSES[c.status]?.letter ?? "?";
      el.setAttribute("aria-label", cellLabel(c));
    }
  }
  if (activePos >= 0) grid.setAttribute("aria-activedescendant", `cell-${activePos}`);
  else grid.removeAttribute("aria-activedescendant");
}

function chapterAt(pos) {
  return pos >= 0 && pos < visible.length ? view.chapters[visible[pos]] : undefined;
}

function showDetail(c) {
  if (!c) return;
  const job = c.job ? view.jobs.find((j) => j.jobNumber === c.job) : undefined;
  const rows = [
    [
      "Status",
      `<span class="cell s-${c.status}" aria-hidden="true">${STATUSES[c.status]?.letter}</span> ${STATUSES[c.status]?.label ?? c.status}`,
    ],
    ["Reason", c.reason ? `<span class="reason">${esc(c.reason)}</span>` : "–"],
    ["Attempts", fmtNumber(c.attempts ?? 0)],
    ["Mode", esc(c.mode ?? "–")],
    ["Job", job ? `${job.jobNumber} (${esc(job.mode)}, ${esc(job.state)})` : c.job ? String(c.job) : "–"],
    ["Audio", c.durationMs ? fmtDuration(c.durationMs / 1000) : "–"],
    ["Characters", fmtNumber(c.characters)],
  ];
  detail.innerHTML = `<h3 id="detail-chapter">${esc(c.id)}</h3><dl class="facts">${rows
    .map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`)
    .join(
      "",
    )}</dl>${c.hasAudio ? `<button type="button" id="play" data-chapter="${esc(c.id)}">Play ${esc(c.id)}</button>` : ""}`;
}

function setActive(pos, { scroll = true } = {}) {
  if (visible.length === 0) return;
  const clamped = Math.max(0, Math.min(visible.length - 1, pos));
  document.getElementById(`cell-${activePos}`)?.classList.remove("active");
  document.getElementById(`cell-${activePos}`)?.setAttribute("aria-selected", "false");
  activePos = clamped;
  const el = document.getElementById(`cell-${activePos}`);
  el.classList.add("active");
  el.setAttribute("aria-selected", "true");
  grid.setAttribute("aria-activedescendant", el.id);
  if (scroll) el.scrollIntoView({ block: "nearest" });
  showDetail(chapterAt(activePos));
}

function play(chapterId) {
  const c = view.chapters.find((x) => x.id === chapterId);
  if (!c?.hasAudio) return;
  player.hidden = false;
  for (const track of audio.querySelectorAll("track")) track.remove();
  cue.textContent = "";
  audio.src = apiUrl(`${projectRoute}/chapters/${encodeURIComponent(chapterId)}/audio`);
  const track = document.createElement("track");
  track.kind = "subtitles";
  track.label = `Subtitles of ${chapterId}`;
  track.srclang = "en";
  track.src = apiUrl(`${projectRoute}/chapters/${encodeURIComponent(chapterId)}/subtitles?format=vtt`);
  track.default = true;
  audio.append(track);
  // An audio element draws no captions: the current cue is shown as text beside the controls.
  track.track.mode = "hidden";
  track.track.addEventListener("cuechange", () => {
    const active = track.track.activeCues;
    cue.textContent = active && active.length > 0 ? Array.from(active, (c) => c.text).join(" ") : "";
  });
  audio.setAttribute("aria-label", `Audio of ${chapterId}`);
  audio.dataset.chapter = chapterId;
  audio.play().catch(() => {
    // Autoplay may be refused; the controls stay there for the user.
  });
}

/** Columns of the grid as laid out now (for Up/Down). */
function columns() {
  const first = document.getElementById("cell-0");
  const second = document.getElementById("cell-1");
  if (!first || !second) return 1;
  const stride = second.offsetLeft - first.offsetLeft;
  return stride > 0 ? Math.max(1, Math.floor((grid.clientWidth + stride - first.offsetWidth) / stride)) : 1;
}

grid.addEventListener("keydown", (event) => {
  const moves = {
    ArrowRight: 1,
    ArrowLeft: -1,
    ArrowDown: columns(),
    ArrowUp: -columns(),
    PageDown: columns() * 10,
    PageUp: -columns() * 10,
  };
  if (event.key in moves) setActive(activePos < 0 ? 0 : activePos + moves[event.key]);
  else if (event.key === "Home") setActive(0);
  else if (event.key === "End") setActive(visible.length - 1);
  else if (event.key === "Enter" || event.key === " ") {
    const c = chapterAt(activePos);
    if (c) play(c.id);
  } else return;
  event.preventDefault();
});
grid.addEventListener("focus", () => {
  if (activePos < 0 && visible.length > 0) setActive(0);
});
grid.addEventListener("mouseover", (event) => {
  const el = event.target.closest?.(".cell[data-pos]");
  if (el) showDetail(chapterAt(Number(el.dataset.pos)));
});
grid.addEventListener("mouseleave", () => showDetail(chapterAt(activePos)));
grid.addEventListener("click", (event) => {
  const el = event.target.closest?.(".cell[data-pos]");
  if (!el) return;
  setActive(Number(el.dataset.pos), { scroll: false });
  grid.focus({ preventScroll: true });
});
detail.addEventListener("click", (event) => {
  const button = event.target.closest?.("#play");
  if (button) play(button.dataset.chapter);
});
failedOnly.addEventListener("change", () => {
  activePos = -1;
  visible = [];
  renderGrid();
});
cancelButton.addEventListener("click", async () => {
  if (
    !window.confirm(
      `Cancel the run of ${projectId}? Unfinished batch jobs are deleted; stored chapters are kept.`,
    )
  )
    return;
  cancelButton.disabled = true;
  try {
    await api("DELETE", `${projectRoute}/synthesis`);
    poller.restart();
  } catch (error) {
    runLine.textContent = error instanceof ApiError ? error.message : String(error);
  } finally {
    cancelButton.disabled = false;
  }
});

function renderCounters() {
  const c = view.counters;
  const finished = c.succeeded + c.unchanged + c.failed + c.rejected;
  progressEl.max = Math.max(1, c.total);
  progressEl.value = finished;
  const t = view.throughput;
  const active = ACTIVE.has(view.runtimeStatus);
  const items = [
    ["Chapters", `${fmtNumber(finished)} / ${fmtNumber(c.total)}`, "total"],
    ["Succeeded", fmtNumber(c.succeeded), "succeeded"],
    ["Unchanged", fmtNumber(c.unchanged), "unchanged"],
    ["Failed", fmtNumber(c.failed), "failed"],
    ["Rejected", fmtNumber(c.rejected), "rejected"],
    ["Running", fmtNumber(c.running), "running"],
    ["Pending", fmtNumber(c.pending), "pending"],
    ["Throughput", t ? `${t.chaptersPerMinute} chapters/min` : "–", "throughput"],
    ["Time left", active && t ? fmtDuration(t.etaSeconds) : "–", "eta"],
    ["Characters billed", fmtNumber(view.billableCharacters), "billed"],
    ["Cost so far", fmtMoney(view.cost), "cost"],
    ["Started", fmtTime(view.startedAt), "started"],
    ["Finished", fmtTime(view.completedAt), "finished"],
  ];
  countersEl.innerHTML = items
    .map(([k, v, key]) => `<div class="counter" data-counter="${key}"><dt>${k}</dt><dd>${v}</dd></div>`)
    .join("");
  runLine.textContent = [
    view.phase ?? "not started",
    view.runtimeStatus,
    view.mode && `${view.mode} mode`,
    view.voice,
    view.runId && `run ${view.runId}`,
    active ? "live" : undefined,
  ]
    .filter(Boolean)
    .join(" · ");
  runLine.dataset.phase = view.phase ?? "";
  cancelButton.hidden = !active;
}

const ROW = 18;
const LABEL_W = 170;
const WIDTH = 1000;

function renderJobs() {
  // Jobs that never started (still waiting, or cut short by a cancel) are counted, not drawn.
  const started = (j) => j.submittedAt || j.collectingAt || j.state === "running" || j.state === "completed";
  const jobs = view.jobs.filter(started);
  const waiting = view.jobs.length - jobs.length;
  if (jobs.length === 0) {
    timeline.innerHTML = `<p class="muted">No jobs yet.</p>`;
    jobsTable.innerHTML = "";
    return;
  }
  const now = Date.parse(view.completedAt ?? view.now);
  const ms = (iso) => (iso ? Date.parse(iso) : undefined);
  const t0 = Math.min(...jobs.map((j) => ms(j.plannedAt) ?? now), ms(view.startedAt) ?? now);
  const span = Math.max(1, now - t0);
  const x = (t) => LABEL_W + ((t - t0) / span) * (WIDTH - LABEL_W - 10);
  const height = jobs.length * ROW + 24;
  const live = ACTIVE.has(view.runtimeStatus);
  const bars = jobs
    .map((j, k) => {
      const y = k * ROW + 2;
      const running = live && (j.state === "running" || j.state === "planned");
      const planned = ms(j.plannedAt);
      const submitted = ms(j.submittedAt);
      const collecting = ms(j.collectingAt);
      const collected = ms(j.collectedAt) ?? (running ? now : undefined);
      const segments = [];
      const seg = (from, to, cls, what) => {
        if (from === undefined || to === undefined || to < from) return;
        const w = Math.max(1.5, x(to) - x(from));
        segments.push(
          `<rect class="${cls}" x="${x(from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 5}"><title>Job ${j.jobNumber} ${what}: ${fmtDuration((to - from) / 1000)}</title></rect>`,
        );
      };
      if (j.mode === "batch" && submitted !== undefined) {
        seg(planned, submitted, "seg-wait", "waiting for a slot");
        seg(submitted, collecting ?? (running ? now : undefined), "seg-service", "at the service");
      } else if (j.mode === "batch") {
        // Submission not seen (its marker is gone once the job is deleted): planned until collected.
        seg(planned, collecting ?? (running ? now : undefined), "seg-unknown", "waiting or at the service");
      } else {
        seg(planned, collecting ?? (running ? now : undefined), "seg-wait", "waiting for a slot");
      }
      seg(
        collecting,
        collected,
        "seg-collect",
        j.mode === "batch" ? "collecting" : "synthesizing (realtime)",
      );
      return `<g class="job job-${esc(j.state)}"><text x="4" y="${y + ROW - 7}">Job ${j.jobNumber} · ${esc(j.mode)} · ${j.chapters} ch.</text>${segments.join("")}</g>`;
    })
    .join("");
  const axisY = jobs.length * ROW + 16;
  timeline.innerHTML = `<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Timeline of ${jobs.length} jobs over ${esc(fmtDuration(span / 1000))}" preserveAspectRatio="xMinYMin meet">
${bars}
<text class="axis" x="${LABEL_W}" y="${axisY}">0 s</text><text class="axis" x="${WIDTH - 10}" y="${axisY}" text-anchor="end">${esc(fmtDuration(span / 1000))}</text>
</svg>
${waiting > 0 ? `<p class="muted small">${waiting} more job${waiting === 1 ? "" : "s"} not started.</p>` : ""}
<ul class="legend small"><li><span class="swatch seg-wait"></span>waiting</li><li><span class="swatch seg-unknown"></span>waiting or at the service</li><li><span class="swatch seg-service"></span>at the service</li><li><span class="swatch seg-collect"></span>collecting / realtime</li></ul>`;
  jobsTable.innerHTML = `<table class="jobs-table"><thead><tr><th scope="col">Job</th><th scope="col">Mode</th><th scope="col">Chapters</th><th scope="col">State</th><th scope="col">Planned</th><th scope="col">Submitted</th><th scope="col">First collected</th><th scope="col">Collected</th></tr></thead><tbody>${view.jobs
    .map(
      (j) =>
        `<tr><th scope="row">${j.jobNumber}</th><td>${esc(j.mode)}</td><td class="num">${j.chapters}</td><td>${esc(j.state)}</td><td>${fmtTime(j.plannedAt)}</td><td>${fmtTime(j.submittedAt)}</td><td>${fmtTime(j.collectingAt)}</td><td>${fmtTime(j.collectedAt)}</td></tr>`,
    )
    .join("")}</tbody></table>`;
}

/** Renders a view (also the bench's entry point: `window.renderRunView`). */
function render(next) {
  view = next;
  performance.mark("render-start");
  renderCounters();
  renderGrid();
  renderJobs();
  if (activePos >= 0) showDetail(chapterAt(activePos));
  performance.measure("render", "render-start");
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}
window.renderRunView = render;

async function refresh() {
  try {
    render(await api("GET", `${projectRoute}/progress`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      runLine.textContent = "This project has not been started yet.";
      return true;
    }
    runLine.textContent = `Could not refresh: ${error instanceof ApiError ? error.message : String(error)}`;
    return true;
  }
  // Live while the run goes; one last refresh shows the final state, then polling stops.
  return ACTIVE.has(view.runtimeStatus);
}

const poller = document.body.dataset.static === "true" ? undefined : poll(refresh, REFRESH_MS);
