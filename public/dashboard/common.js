// Shared helpers of the dashboard pages (plain ES modules, served by the app; see docs/dashboard.md).

export const apiBase = document.body.dataset.api ?? "/api";
// On Azure the pages are opened with the function key (`?code=`): it goes on every API call.
const functionKey = new URLSearchParams(location.search).get("code");

export const ACTIVE = new Set(["Running", "Pending", "ContinuedAsNew", "Suspended"]);

/** A same-origin URL of the API carrying the function key (for links and media elements). */
export function apiUrl(route) {
  const url = new URL(apiBase + route, location.origin);
  if (functionKey) url.searchParams.set("code", functionKey);
  return url.pathname + url.search;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The request failed (HTTP ${status}).`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, route, body) {
  const headers = {};
  if (functionKey) headers["x-functions-key"] = functionKey;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(apiBase + route, {
    method,
    headers,
    cache: "no-store",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

export const numberFormat = new Intl.NumberFormat("en-US");
export function fmtNumber(n) {
  return n === null || n === undefined ? "–" : numberFormat.format(n);
}

export function fmtMoney(cost) {
  if (!cost) return "–";
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: cost.currency ?? "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 4,
  }).format(cost.amount);
}

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, "0")} s`;
  return `${rest} s`;
}

/**
 * Calls `task` now and then again `intervalMs` after each call finishes (never two at once, never faster),
 * pausing while the tab is hidden. `task` returns false to stop.
 */
export function poll(task, intervalMs) {
  let timer;
  let stopped = false;
  const run = async () => {
    timer = undefined;
    if (stopped) return;
    if (document.hidden) return;
    let again = true;
    try {
      again = (await task()) !== false;
    } catch (error) {
      console.error(error);
    }
    if (again && !stopped) timer = setTimeout(run, intervalMs);
    else stopped = true;
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped && timer === undefined) run();
  });
  run();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    restart() {
      if (!stopped) return;
      stopped = false;
      clearTimeout(timer);
      run();
    },
  };
}
