// Projects page: every project with its last run; start (estimate first) and cancel.
import { ACTIVE, ApiError, api, apiUrl, esc, fmtMoney, fmtNumber, fmtTime, poll } from "./common.js";

const REFRESH_MS = 5000;
const tbody = document.querySelector("#projects tbody");
const status = document.getElementById("status");
const dialog = document.getElementById("confirm");
const dialogTitle = document.getElementById("confirm-title");
const dialogBody = document.getElementById("confirm-body");
let projects = [];
let lastHtml = "";

function phaseLabel(p) {
  if (!p.runtimeStatus) return "never run";
  return p.phase ? `${p.phase}` : p.runtimeStatus.toLowerCase();
}

function row(p) {
  const c = p.chapters ?? {};
  const done = (c.succeeded ?? 0) + (c.unchanged ?? 0);
  const failures = (c.failed ?? 0) + (c.rejected ?? 0);
  const active = ACTIVE.has(p.runtimeStatus);
  const id = esc(p.projectId);
  const action = active
    ? `<button type="button" class="danger" data-action="cancel" data-project="${id}">Cancel<span class="sr-only"> ${id}</span></button>`
    : `<button type="button" data-action="start" data-project="${id}">Start…<span class="sr-only"> ${id}</span></button>`;
  return `<tr data-project="${id}" data-phase="${esc(p.phase ?? "")}">
<th scope="row"><a href="${esc(apiUrl(`/dashboard/${p.projectId}`))}">${id}</a></th>
<td><span class="phase phase-${esc(p.phase ?? "none")}">${esc(phaseLabel(p))}</span></td>
<td class="num">${fmtNumber(done)} / ${fmtNumber(c.total ?? 0)}</td>
<td class="num${failures > 0 ? " bad" : ""}">${fmtNumber(failures)}${failures > 0 ? ` <span class="muted small">(${fmtNumber(c.failed)} failed, ${fmtNumber(c.rejected)} rejected)</span>` : ""}</td>
<td>${fmtTime(p.startedAt)}</td>
<td>${fmtTime(p.completedAt)}</td>
<td class="num">${fmtNumber(p.billableCharacters)}</td>
<td class="num">${fmtMoney(p.cost)}</td>
<td>${action}</td>
</tr>`;
}

async function refresh() {
  projects = await api("GET", "/projects");
  const html =
    projects.length > 0
      ? projects.map(row).join("")
      : `<tr><td colspan="9" class="muted">No projects yet: upload chapters with <code>tts-pipeline upload</code>.</td></tr>`;
  // Redrawn only when something changed (keeps focus and hover on the buttons between refreshes).
  if (html !== lastHtml) tbody.innerHTML = lastHtml = html;
  const running = projects.filter((p) => ACTIVE.has(p.runtimeStatus)).length;
  status.textContent = `${projects.length} project${projects.length === 1 ? "" : "s"}, ${running} running. Updated ${new Date().toLocaleTimeString("en-GB")}.`;
  // Keeps refreshing while something runs; otherwise stops until the next action.
  return running > 0;
}

const poller = poll(refresh, REFRESH_MS);

function confirmDialog(title, bodyHtml, okLabel) {
  dialogTitle.textContent = title;
  dialogBody.innerHTML = bodyHtml;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

function estimateHtml(e) {
  const rejected = e.rejected?.length
    ? `<p>Rejected (not billed): ${e.rejected.map((r) => `${esc(r.chapterId)} (${esc(r.reason)})`).join(", ")}</p>`
    : "";
  return `<dl class="estimate">
<dt>Chapters</dt><dd>${fmtNumber(e.chapters)} (${fmtNumber(e.unchanged)} unchanged)</dd>
<dt>Billable characters</dt><dd>${fmtNumber(e.billableCharacters)}</dd>
<dt>Estimated cost</dt><dd id="estimate-cost">${fmtMoney(e.estimatedCost)}</dd>
<dt>Batch jobs</dt><dd>${fmtNumber(e.plannedJobs)} (${esc(e.mode)})</dd>
<dt>Audio</dt><dd>about ${fmtNumber(e.estimatedAudioMinutes)} min, voice ${esc(e.voice)}</dd>
</dl>${rejected}`;
}

async function start(projectId) {
  status.textContent = `Estimating ${projectId}…`;
  const estimate = await api("GET", `/projects/${encodeURIComponent(projectId)}/estimate`);
  status.textContent = "";
  if (!(await confirmDialog(`Start ${projectId}?`, estimateHtml(estimate), "Start"))) return;
  await api("POST", `/projects/${encodeURIComponent(projectId)}/synthesis`);
  status.textContent = `Started ${projectId}.`;
}

async function cancel(projectId) {
  const ok = await confirmDialog(
    `Cancel ${projectId}?`,
    "<p>The run stops and its unfinished batch jobs are deleted. Chapters already stored are kept.</p>",
    "Cancel run",
  );
  if (!ok) return;
  await api("DELETE", `/projects/${encodeURIComponent(projectId)}/synthesis`);
  status.textContent = `Cancelled ${projectId}.`;
}

tbody.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  button.disabled = true;
  try {
    if (button.dataset.action === "start") await start(button.dataset.project);
    else await cancel(button.dataset.project);
    await refresh();
    poller.restart();
  } catch (error) {
    status.textContent = error instanceof ApiError ? error.message : String(error);
  } finally {
    button.disabled = false;
  }
});
