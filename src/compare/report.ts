import { escapeXml } from "../text/ssml.js";
import type { CompareReport } from "./run.js";

/**
 * The compare report as one self-contained HTML page: no scripts, no external assets, one small inline SVG
 * bar chart per metric (batch against realtime per chapter), then the checks of every chapter.
 */

interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

const BATCH_COLOR = "#1f77b4";
const REALTIME_COLOR = "#ff7f0e";

/** A grouped bar chart: one group per chapter, one bar per series; an optional dashed threshold line. */
export function barChart(
  title: string,
  unit: string,
  labels: string[],
  series: Series[],
  threshold?: { value: number; label: string },
  /** "zero": bars from 0 (sizes); "range": the axis spans the values only (loudness, where 0 says nothing). */
  axis: "zero" | "range" = "zero",
): string {
  const width = 560;
  const height = 220;
  const left = 48;
  const bottom = 40;
  const top = 28;
  const plotWidth = width - left - 12;
  const plotHeight = height - top - bottom;
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (threshold) values.push(threshold.value);
  const hi = axis === "zero" ? Math.max(0, ...values) : Math.ceil(Math.max(...values) + 1);
  const lo = axis === "zero" ? Math.min(0, ...values) : Math.floor(Math.min(...values) - 3);
  const base = axis === "zero" ? 0 : lo;
  const span = hi - lo || 1;
  const y = (v: number) => top + ((hi - v) / span) * plotHeight;
  const groupWidth = plotWidth / Math.max(1, labels.length);
  const barWidth = Math.max(2, (groupWidth * 0.8) / series.length);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" role="img" aria-label="${escapeXml(title)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(
    `<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)} (${escapeXml(unit)})</text>`,
  );
  for (const tick of [lo, (lo + hi) / 2, hi]) {
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 4}" y="${(y(tick) + 4).toFixed(1)}" font-size="10" text-anchor="end">${tick.toFixed(Math.abs(span) < 5 ? 2 : 0)}</text>`,
    );
  }
  for (const [g, label] of labels.entries()) {
    const x0 = left + g * groupWidth + groupWidth * 0.1;
    for (const [s, serie] of series.entries()) {
      const v = serie.values[g];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const y1 = Math.min(y(v), y(base));
      const h = Math.max(1, Math.abs(y(v) - y(base)));
      parts.push(
        `<rect class="bar" x="${(x0 + s * barWidth).toFixed(1)}" y="${y1.toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${serie.color}"><title>${escapeXml(`${label} ${serie.name}: ${v.toFixed(3)} ${unit}`)}</title></rect>`,
      );
    }
    parts.push(
      `<text x="${(x0 + (groupWidth * 0.8) / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="9" text-anchor="middle">${escapeXml(label.length > 14 ? `${label.slice(0, 13)}…` : label)}</text>`,
    );
  }
  if (threshold) {
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(threshold.value).toFixed(1)}" y2="${y(threshold.value).toFixed(1)}" stroke="#c00" stroke-dasharray="4 3"/>`,
      `<text x="${left + plotWidth}" y="${(y(threshold.value) - 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#c00">${escapeXml(threshold.label)}</text>`,
    );
  }
  parts.push(
    ...series.map(
      (s, i) =>
        `<rect x="${left + i * 90}" y="${height - 14}" width="10" height="10" fill="${s.color}"/><text x="${left + i * 90 + 14}" y="${height - 5}" font-size="10">${escapeXml(s.name)}</text>`,
    ),
  );
  parts.push("</svg>");
  return parts.join("");
}

export function renderReportHtml(report: CompareReport): string {
  const labels = report.chapters.map((c) => c.chapterId);
  const both = (pick: (m: CompareReport["chapters"][number]["batch"]) => number | null | undefined) => [
    { name: "batch", color: BATCH_COLOR, values: report.chapters.map((c) => pick(c.batch) ?? null) },
    { name: "realtime", color: REALTIME_COLOR, values: report.chapters.map((c) => pick(c.realtime) ?? null) },
  ];
  const silenceShare = (m: CompareReport["chapters"][number]["batch"]) =>
    (m.silence.leadingShare + m.silence.trailingShare + m.silence.insideShare) * 100;
  const charts = [
    barChart(
      "Duration",
      "s",
      labels,
      both((m) => m.durationSeconds),
    ),
    barChart(
      "Integrated loudness",
      "LUFS",
      labels,
      both((m) => m.integratedLufs),
      undefined,
      "range",
    ),
    barChart("Silence share", "%", labels, both(silenceShare)),
    barChart(
      "Bit rate",
      "kbit/s",
      labels,
      both((m) => (m.bitRate ? m.bitRate / 1000 : null)),
    ),
    barChart(
      "Word-boundary coverage (batch)",
      "%",
      labels,
      [
        {
          name: "batch",
          color: BATCH_COLOR,
          values: report.chapters.map((c) => (c.words ? c.words.coverage * 100 : null)),
        },
      ],
      { value: report.thresholds.COMPARE_MIN_WORD_COVERAGE * 100, label: "minimum" },
    ),
  ];
  const rows = report.chapters
    .map((c) => {
      const checks = c.checks
        .map(
          (k) =>
            `<li class="${k.ok ? "ok" : "bad"}">${k.ok ? "✓" : "✗"} ${escapeXml(k.name)}: ${escapeXml(k.detail)}</li>`,
        )
        .join("");
      return `<tr class="${c.pass ? "ok" : "bad"}"><td>${escapeXml(c.chapterId)}</td><td>${c.pass ? "pass" : "FAIL"}</td><td><ul>${checks}</ul></td></tr>`;
    })
    .join("\n");
  const skipped = report.skipped.length
    ? `<h2>Not compared</h2><ul>${report.skipped.map((s) => `<li>${escapeXml(s.chapterId)}: ${escapeXml(s.why)}</li>`).join("")}</ul>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batch vs realtime: ${escapeXml(report.projectId)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
.verdict{font-size:20px;font-weight:bold}.verdict.ok,tr.ok td:nth-child(2){color:#080}.verdict.bad,tr.bad td:nth-child(2){color:#c00}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee}
table{border-collapse:collapse}td{border-top:1px solid #ddd;padding:4px 8px;vertical-align:top}ul{margin:0;padding-left:16px}
li.bad{color:#c00}
</style></head><body>
<h1>Batch vs realtime: ${escapeXml(report.projectId)}</h1>
<p class="verdict ${report.pass ? "ok" : "bad"}">${report.pass ? "PASS" : "FAIL"}: ${report.chapters.filter((c) => c.pass).length} of ${report.chapters.length} chapters within the thresholds</p>
<p>${escapeXml(report.createdAt)} · ${report.billableCharacters} characters billed for the realtime side</p>
<div class="charts">${charts.join("\n")}</div>
<h2>Chapters</h2><table>${rows}</table>
${skipped}
<h2>Thresholds</h2><pre>${escapeXml(JSON.stringify(report.thresholds, null, 2))}</pre>
</body></html>
`;
}
