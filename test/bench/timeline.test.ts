import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { axisStep, formatAxis, renderTimelineSvg } from "../../tools/bench/timeline.js";

type Node = Record<string, unknown>;
const asArray = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]) as Node[];

describe("renderTimelineSvg", () => {
  const svg = renderTimelineSvg({
    title: "book-100 <batch> & co",
    subtitle: "3 jobs at once",
    jobs: [
      {
        label: "job-1",
        queuedAt: 0,
        submittedAt: 2,
        serviceEndAt: 400,
        collectedAt: 430,
        messages: [405, 410, 430],
      },
      { label: "job-2", queuedAt: 0, submittedAt: 400, serviceEndAt: 800, collectedAt: 820, messages: [820] },
      // Still at the service when the run ended (no messages): no collecting bar, no ticks.
      { label: "job-3", queuedAt: 0, submittedAt: 0, serviceEndAt: 300, messages: [] },
    ],
    markers: [{ at: 800, label: "floor" }],
  });

  it("is valid SVG with one labelled row per job", () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg) as {
      svg: Node;
    };
    expect(doc.svg["xmlns"]).toBe("http://www.w3.org/2000/svg");
    const texts = asArray(doc.svg["text"]).map((t) => String(t["#text"] ?? ""));
    expect(texts).toEqual(expect.arrayContaining(["job-1", "job-2", "job-3", "book-100 <batch> & co"]));
    const rects = asArray(doc.svg["rect"]);
    const bars = (kind: string) => rects.filter((r) => r["class"] === kind);
    // job-3 has no queued bar (submitted at once) and no collecting bar.
    expect(bars("queued")).toHaveLength(2);
    expect(bars("service")).toHaveLength(3);
    expect(bars("collecting")).toHaveLength(2);
    const ticks = asArray(doc.svg["line"]).filter((l) => l["class"] === "tick");
    expect(ticks).toHaveLength(4);
  });

  it("places bars on the time axis in proportion", () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg) as {
      svg: Node;
    };
    const service = asArray(doc.svg["rect"]).filter((r) => r["class"] === "service");
    const [first, second] = service.map((r) => ({ x: Number(r["x"]), width: Number(r["width"]) }));
    // job-1 at the service 2→400 s and job-2 400→800 s: job-2 starts where job-1 ends, same length ±rounding.
    expect(Math.abs((first?.x ?? 0) + (first?.width ?? 0) - (second?.x ?? 0))).toBeLessThan(0.6);
    expect(Math.abs((second?.width ?? 0) - (first?.width ?? 0) * (400 / 398))).toBeLessThan(0.6);
    const labels = asArray(doc.svg["text"])
      .filter((t) => t["class"] === "axis-label")
      .map((t) => String(t["#text"]));
    // 820 s of run: 2-minute steps up to 14 min.
    expect(labels[0]).toBe("0 s");
    expect(labels).toContain("2 min");
    expect(labels.at(-1)).toBe("14 min");
  });
});

describe("axis", () => {
  it("picks a step with at most ten ticks and readable labels", () => {
    expect(axisStep(45)).toBe(5);
    expect(axisStep(820)).toBe(120);
    expect(axisStep(3 * 3600)).toBe(1800);
    expect(formatAxis(30)).toBe("30 s");
    expect(formatAxis(90)).toBe("1.5 min");
    expect(formatAxis(5400)).toBe("1 h 30 min");
  });
});
