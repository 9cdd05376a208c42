import { describe, expect, it } from "vitest";
import { realtimeBillableCharacters, spreadSample } from "../../src/compare/run.js";
import { billableCharacters, textToSsml } from "../../src/text/index.js";

describe("compare selection and bill", () => {
  it("a sample is spread over the book, first and last included", () => {
    const chapters = Array.from({ length: 10 }, (_, i) => `ch${i + 1}`);
    expect(spreadSample(chapters, 3)).toEqual(["ch1", "ch6", "ch10"]);
    expect(spreadSample(chapters, 1)).toEqual(["ch6"]);
    expect(spreadSample(chapters, 20)).toEqual(chapters);
  });

  it("realtime bill = the SSML the realtime client sends, split as it splits", () => {
    const text = "Salt & glass. “Quoted” words, then <more>.";
    const voice = "en-US-AvaMultilingualNeural";
    expect(realtimeBillableCharacters(text, "text", voice)).toBe(
      billableCharacters(textToSsml(text, { voice }), "SSML"),
    );
    const long = "A sentence of a dozen words that goes on and on here. ".repeat(400);
    // Over 9,000 spoken characters: several requests, each billed on its own SSML.
    expect(realtimeBillableCharacters(long, "text", voice)).toBeGreaterThanOrEqual(long.trim().length);
  });
});
