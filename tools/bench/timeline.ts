/**
 * `<scenario>.timeline.svg`: one row per batch job (queued → at the service → collecting) with a tick for
 * each of its chapters' video messages, on a modelled-time axis from the run's start. Plain SVG text: a
 * handful of rectangles and lines needs no charting library, and the file opens in any browser.
 */

import { escapeXml } from "../../src/text/ssml.js";

export interface TimelineJob {
  /** Row label (the synthesis id, shortened by the caller if it likes). */
  label: string;
  /** Seconds from the run's start (modelled): when its chapters were waiting for a slot. */
  queuedAt: number;
  /** Created at the service. */
  submittedAt: number;
  /** Finished at the service (its results exist). */
  serviceEndAt: number;
  /** Last video message of its chapters (absent when none arrived). */
  collectedAt?: number;
  /** Video message times of its chapters. */
  messages: number[];
}

export interface Timeline {
  title: string;
  /** Second line under the title (settings, scale, limits). */
  subtitle?: string;
  jobs: TimelineJob[];
  /** Optional vertical marker, e.g. the floor: `{ at: seconds, label }`. */
  markers?: { at: number; label: string }[];
}

const LABEL_WIDTH = 150;
const PLOT_WIDTH = 900;
const ROW = 20;
const BAR = 12;
const TOP = 84;
const COLOURS = { queued: "#d0d4da", service: "#3b6fb6", collecting: "#e59a2f", tick: "#1d1d1d" };

/** An axis step giving at most ~10 ticks, in seconds. */
export function axisStep(totalSeconds: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800];
  return steps.find((s) => totalSeconds / s <= 10) ?? 3600 * Math.ceil(totalSeconds / 36000);
}

/** `45 s`, `12 min`, `1 h 30 min`. */
export function formatAxis(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 6) / 10} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds - h * 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function renderTimelineSvg(timeline: Timeline): string {
  const ends = timeline.jobs.flatMap((j) => [j.serviceEndAt, j.collectedAt ?? 0, ...j.messages]);
  const markerEnds = (timeline.markers ?? []).map((m) => m.at);
  const total = Math.max(1, ...ends, ...markerEnds);
  const step = axisStep(total);
  const axisEnd = Math.ceil(total / step) * step;
  const x = (s: number) => round(LABEL_WIDTH + (Math.max(0, s) / axisEnd) * PLOT_WIDTH);
  const plotBottom = TOP + timeline.jobs.length * ROW;
  const height = plotBottom + 50;
  const width = LABEL_WIDTH + PLOT_WIDTH + 30;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(timeline.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(timeline.title)}</text>`,
  );
  if (timeline.subtitle) out.push(`<text x="10" y="34" fill="#444">${escapeXml(timeline.subtitle)}</text>`);
  // Legend.
  const legend: [string, string][] = [
    ["queued (waiting for a slot)", COLOURS.queued],
    ["at the service", COLOURS.service],
    ["collecting", COLOURS.collecting],
  ];
  legend.forEach(([name, colour], i) => {
    const lx = 10 + i * 200;
    out.push(
      `<rect x="${lx}" y="44" width="14" height="10" fill="${colour}"/>`,
      `<text x="${lx + 18}" y="53">${escapeXml(name)}</text>`,
    );
  });
  const tx = 10 + legend.length * 200;
  out.push(
    `<line x1="${tx + 7}" y1="43" x2="${tx + 7}" y2="55" stroke="${COLOURS.tick}" stroke-width="1"/>`,
    `<text x="${tx + 14}" y="53">video message</text>`,
  );
  // Grid and axis labels.
  for (let s = 0; s <= axisEnd + 1e-9; s += step) {
    out.push(
      `<line class="grid" x1="${x(s)}" y1="${TOP - 4}" x2="${x(s)}" y2="${plotBottom}" stroke="#eeeeee"/>`,
      `<text class="axis-label" x="${x(s)}" y="${plotBottom + 16}" text-anchor="middle">${escapeXml(formatAxis(s))}</text>`,
    );
  }
  out.push(
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="#444">modelled time since the run started</text>`,
  );
  // One row per job.
  timeline.jobs.forEach((job, row) => {
    const y = TOP + row * ROW;
    const barY = y + (ROW - BAR) / 2;
    out.push(
      `<text x="${LABEL_WIDTH - 6}" y="${y + ROW / 2 + 4}" text-anchor="end">${escapeXml(job.label)}</text>`,
    );
    const bar = (kind: keyof typeof COLOURS, from: number, to: number) => {
      if (!(to > from)) return;
      out.push(
        `<rect class="${kind}" x="${x(from)}" y="${barY}" width="${Math.max(0.5, round(x(to) - x(from)))}" height="${BAR}" fill="${COLOURS[kind]}"><title>${escapeXml(`${job.label} ${kind}: ${formatAxis(from)} – ${formatAxis(to)}`)}</title></rect>`,
      );
    };
    bar("queued", job.queuedAt, job.submittedAt);
    bar("service", job.submittedAt, job.serviceEndAt);
    if (job.collectedAt !== undefined) bar("collecting", job.serviceEndAt, job.collectedAt);
    for (const at of job.messages) {
      out.push(
        `<line class="tick" x1="${x(at)}" y1="${barY - 2}" x2="${x(at)}" y2="${barY + BAR + 2}" stroke="${COLOURS.tick}" stroke-width="0.6"/>`,
      );
    }
  });
  for (const marker of timeline.markers ?? []) {
    out.push(
      `<line class="marker" x1="${x(marker.at)}" y1="${TOP - 8}" x2="${x(marker.at)}" y2="${plotBottom}" stroke="#b22222" stroke-dasharray="4 3"/>`,
      `<text x="${x(marker.at) + 3}" y="${TOP - 10}" fill="#b22222">${escapeXml(marker.label)}</text>`,
    );
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
