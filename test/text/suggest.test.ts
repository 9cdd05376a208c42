import { describe, expect, it } from "vitest";
import { starterList, suggestNames } from "../../src/text/suggest.js";

describe("suggestNames", () => {
  const chapters = [
    {
      chapterId: "ch1",
      text: "Klein Moretti woke. The lamp was lit, and Klein saw Old Neil by the Tingen gate.\n\nTingen slept. “Klein,” said Audrey.",
    },
    {
      chapterId: "ch2",
      text: "Later, Klein wrote to Audrey Hall. Lamp oil was short; the lamp smoked.\n\nParis was far.",
    },
  ];

  it("finds capitalized names that are not sentence-initial or common words, most frequent first", () => {
    const names = suggestNames(chapters);
    const texts = names.map((n) => n.text);
    expect(texts[0]).toBe("Klein");
    expect(names[0]).toEqual({ text: "Klein", count: 4, chapters: ["ch1", "ch2"] });
    // Multi-word names stay together; the parts are counted on their own as well.
    expect(texts).toContain("Klein Moretti");
    expect(texts).toContain("Audrey Hall");
    expect(texts).toContain("Tingen");
    // Common words and capitals only seen at sentence starts are left out.
    expect(texts).not.toContain("The");
    expect(texts).not.toContain("Lamp");
    expect(texts).not.toContain("Paris");
    expect(texts).not.toContain("Later");
  });

  it("keeps to --top and writes a starter list with empty aliases", () => {
    const top = suggestNames(chapters, 2);
    expect(top).toHaveLength(2);
    expect(starterList(top)).toEqual(top.map((c) => ({ text: c.text, alias: "" })));
  });
});
