import { describe, expect, it } from "vitest";
import { compilePronunciations, pronounceChapter } from "../../src/pipeline/planning/pronunciations.js";
import { billableCharacters } from "../../src/text/billing.js";
import {
  foldPronunciationHash,
  PronunciationMatcher,
  pronounceSsml,
  pronounceText,
  rulesFromEntries,
  rulesFromLexicon,
  rulesHash,
  validateLexicon,
  validatePronunciationList,
} from "../../src/text/pronunciations.js";
import { validateSsml } from "../../src/text/ssml.js";

const VOICE = "en-US-AvaMultilingualNeural";

function matcherOf(raw: unknown[]) {
  const list = validatePronunciationList(raw);
  if (!list.ok) throw new Error(JSON.stringify(list.issues));
  return new PronunciationMatcher(rulesFromEntries(list.value));
}

const PLS = `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Tingen</grapheme><phoneme>ˈtɪŋən</phoneme></lexeme>
  <lexeme><grapheme>BTW</grapheme><alias>by the way</alias></lexeme>
</lexicon>`;

describe("pronunciation list validation", () => {
  it("accepts aliases and phonemes with the documented options", () => {
    const list = validatePronunciationList([
      { text: "Moretti", alias: "mo-RET-ee" },
      { text: "Tingen", phoneme: "ˈtɪŋən", alphabet: "ipa", caseSensitive: true, wholeWord: false },
    ]);
    expect(list.ok).toBe(true);
  });

  it("names every bad entry by index and text", () => {
    const list = validatePronunciationList([
      { text: "Moretti", alias: "mo-RET-ee" },
      { text: "Klein", alias: "kline", phoneme: "klaɪn" },
      { text: "Audrey", phoneme: "ˈɔːdri", alphabet: "klingon" },
      { text: "", alias: "x" },
      { text: "moretti", alias: "again" },
      { text: "Zed", alias: "zed", colour: "red" },
    ]);
    expect(list.ok).toBe(false);
    if (list.ok) return;
    const byEntry = new Map(list.issues.map((i) => [i.entry, i]));
    expect(byEntry.get(1)).toMatchObject({ text: "Klein", message: expect.stringContaining("exactly one") });
    expect(byEntry.get(2)).toMatchObject({ text: "Audrey", message: expect.stringContaining("alphabet") });
    expect(byEntry.get(3)?.message).toContain("text");
    expect(byEntry.get(4)).toMatchObject({ text: "moretti", message: expect.stringContaining("twice") });
    expect(byEntry.get(5)?.message).toMatch(/colour/);
    expect(byEntry.has(0)).toBe(false);
  });

  it("refuses a list that is not an array", () => {
    expect(validatePronunciationList({ Moretti: "mo-RET-ee" }).ok).toBe(false);
  });
});

describe("PLS lexicon validation", () => {
  it("reads lexemes with graphemes, aliases and phonemes", () => {
    const lexicon = validateLexicon(PLS);
    expect(lexicon).toEqual({
      ok: true,
      value: {
        lang: "en-US",
        alphabet: "ipa",
        lexemes: [
          { graphemes: ["Tingen"], phoneme: "ˈtɪŋən" },
          { graphemes: ["BTW"], alias: "by the way" },
        ],
      },
    });
  });

  it.each([
    ["not XML", "<lexicon", /well-formed/],
    ["wrong root", "<speak/>", /root element/],
    ["no namespace", PLS.replace(/ xmlns="[^"]+"/, ""), /xmlns/],
    ["bad alphabet", PLS.replace('alphabet="ipa"', 'alphabet="arpabet"'), /alphabet/],
    ["no locale", PLS.replace(' xml:lang="en-US"', ""), /xml:lang/],
    ["lexeme without pronunciation", PLS.replace("<alias>by the way</alias>", ""), /<alias> or a <phoneme>/],
    ["IPA with spaces", PLS.replace("ˈtɪŋən", "ˈtɪŋ ən"), /white space/],
    ["over 100 KB", PLS.replace("</lexicon>", `<!-- ${"x".repeat(110_000)} --></lexicon>`), /100 KB/],
  ])("refuses %s", (_name, source, message) => {
    const lexicon = validateLexicon(source);
    expect(lexicon.ok).toBe(false);
    if (!lexicon.ok) expect(lexicon.issues[0]?.message).toMatch(message);
  });

  it("names the lexeme that is wrong", () => {
    const lexicon = validateLexicon(PLS.replace("<alias>by the way</alias>", ""));
    expect(lexicon.ok).toBe(false);
    if (!lexicon.ok) expect(lexicon.issues[0]).toMatchObject({ entry: 1, text: "BTW" });
  });
});

describe("matching", () => {
  it("matches whole words only, case-insensitively, unless told otherwise", () => {
    const m = matcherOf([
      { text: "Klein", alias: "kline" },
      { text: "Audrey", alias: "aw-dree", caseSensitive: true },
      { text: "zhou", alias: "joe", wholeWord: false },
    ]);
    const found = (text: string) => m.find(text).map((x) => text.slice(x.start, x.end));
    expect(found("Klein met KLEIN and klein, not Kleinberg or McKlein.")).toEqual([
      "Klein",
      "KLEIN",
      "klein",
    ]);
    expect(found("Audrey, not audrey or AUDREY.")).toEqual(["Audrey"]);
    expect(found("Mr Zhouwei and zhou")).toEqual(["Zhou", "zhou"]);
  });

  it("keeps multi-word terms together and prefers the longest match", () => {
    const m = matcherOf([
      { text: "Skerry", alias: "skeh-ree" },
      { text: "Skerry Point", alias: "skeh-ree point" },
    ]);
    const matches = m.find("At Skerry\nPoint, and Skerry alone.");
    expect(matches.map((x) => x.rule.text)).toEqual(["Skerry Point", "Skerry"]);
  });

  it("treats letters with accents as part of a word", () => {
    const m = matcherOf([{ text: "Émile", alias: "ay-meel" }]);
    expect(m.find("Émile and Émiles").length).toBe(1);
  });

  it("finds whole-word terms in text written without spaces (Chinese, Japanese) and next to it", () => {
    // Whole words used to need a non-letter on both sides, which unspaced text never has: no list entry
    // and no lexeme of a Chinese or Japanese lexicon ever matched, so not even <lexicon uri> was sent.
    const m = matcherOf([
      { text: "周杰伦", alias: "Zhou Jielun" },
      { text: "Tokyo", alias: "toh-kyoh" },
    ]);
    const found = (text: string) => m.find(text).map((x) => text.slice(x.start, x.end));
    expect(found("我喜欢周杰伦的歌")).toEqual(["周杰伦"]);
    expect(found("Tokyoに行く, not Tokyoite")).toEqual(["Tokyo"]);
    const japanese = rulesFromLexicon({
      lang: "ja-JP",
      alphabet: "ipa",
      lexemes: [{ graphemes: ["東京"], alias: "とうきょう" }],
    });
    const batch = pronounceText("東京に行く。", new PronunciationMatcher(japanese), {
      voice: "ja-JP-NanamiNeural",
      lexiconUri: "https://st.blob.core.windows.net/tts-work/book/r1/lexicon.pls",
    });
    expect(batch?.usesLexicon).toBe(true);
    expect(batch?.used.map((r) => r.text)).toEqual(["東京"]);
  });
});

describe("SSML rewrite", () => {
  it("turns plain text with a term into SSML with sub and phoneme, escaping everything", () => {
    const m = matcherOf([
      { text: "Moretti", alias: 'mo-RET-ee & "co"' },
      { text: "Tingen", phoneme: "ˈtɪŋən" },
    ]);
    const out = pronounceText('Moretti & Tingen said "<hi>".\n\nNo names here.', m, { voice: VOICE });
    expect(out?.ssml).toBe(
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="en-US">' +
        '<voice name="en-US-AvaMultilingualNeural"><p><sub alias="mo-RET-ee &amp; &quot;co&quot;">Moretti</sub> &amp; ' +
        '<phoneme alphabet="ipa" ph="ˈtɪŋən">Tingen</phoneme> said &quot;&lt;hi&gt;&quot;.</p><p>No names here.</p></voice></speak>',
    );
    expect(out && validateSsml(out.ssml).ok).toBe(true);
    expect(out?.used.map((r) => r.text)).toEqual(["Moretti", "Tingen"]);
  });

  it("leaves a chapter without terms alone", () => {
    expect(
      pronounceText("Nothing to see.", matcherOf([{ text: "Moretti", alias: "x" }]), { voice: VOICE }),
    ).toBe(undefined);
  });

  it("rewrites only the text of user SSML, not attributes, comments or existing subs", () => {
    const m = matcherOf([{ text: "Klein", alias: "kline" }]);
    const ssml =
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="Klein-voice">' +
      '<!-- Klein --><p title="Klein">Klein &amp; co</p><sub alias="K">Klein</sub></voice></speak>';
    const out = pronounceSsml(ssml, m, {});
    expect(out?.ssml).toBe(
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="Klein-voice">' +
        '<!-- Klein --><p title="Klein"><sub alias="kline">Klein</sub> &amp; co</p><sub alias="K">Klein</sub></voice></speak>',
    );
    expect(out && validateSsml(out.ssml).ok).toBe(true);
  });

  it("leaves lexicon terms to one <lexicon uri> in each voice of a batch input, inlines them without one", () => {
    const lexicon = validateLexicon(PLS);
    if (!lexicon.ok) throw new Error("lexicon");
    const pron = compilePronunciations([{ text: "Klein", alias: "kline" }], {
      source: PLS,
      parsed: lexicon.value,
    });
    const batch = pronounceChapter("Klein went to Tingen.", "text", VOICE, pron, "batch");
    expect(batch?.usesLexicon).toBe(true);
    expect(batch?.ssml).toContain(
      '<voice name="en-US-AvaMultilingualNeural"><lexicon uri="https://lexicon.invalid/',
    );
    expect(batch?.ssml).toContain('<p><sub alias="kline">Klein</sub> went to Tingen.</p>');
    const realtime = pronounceChapter("Klein went to Tingen.", "text", VOICE, pron, "realtime");
    expect(realtime?.ssml).not.toContain("<lexicon");
    expect(realtime?.ssml).toContain('<phoneme alphabet="ipa" ph="ˈtɪŋən">Tingen</phoneme>');
    expect(batch?.usedHash).toBe(realtime?.usedHash);
    expect(rulesFromLexicon(lexicon.value).every((r) => r.caseSensitive)).toBe(true);
  });

  it("bills the added markup (everything but <speak> and <voice>)", () => {
    const m = matcherOf([{ text: "Klein", alias: "kline" }]);
    const out = pronounceText("Klein.", m, { voice: VOICE });
    expect(out && billableCharacters(out.ssml, "SSML")).toBe('<p><sub alias="kline">Klein</sub>.</p>'.length);
  });
});

describe("change detection hash", () => {
  it("depends only on the rules a chapter uses", () => {
    const before = matcherOf([
      { text: "Klein", alias: "kline" },
      { text: "Audrey", alias: "aw-dree" },
    ]);
    const after = matcherOf([
      { text: "Klein", alias: "kline" },
      { text: "Audrey", alias: "aw-dray" },
      { text: "Moretti", alias: "mo-RET-ee" },
    ]);
    const hashOf = (m: PronunciationMatcher, text: string) => {
      const out = pronounceText(text, m, { voice: VOICE });
      return foldPronunciationHash("t", out ? rulesHash(out.used) : undefined);
    };
    expect(hashOf(before, "Klein only.")).toBe(hashOf(after, "Klein only."));
    expect(hashOf(before, "Klein and Audrey.")).not.toBe(hashOf(after, "Klein and Audrey."));
    expect(hashOf(before, "Nobody.")).toBe("t");
  });
});
