import { describe, expect, it } from "vitest";
import {
  billableCharacters,
  decodeXmlEntities,
  escapeXml,
  prosodyRateFactor,
  slowestProsodyRate,
  splitForRealtime,
  splitText,
  textToSsml,
  validateSsml,
} from "../../src/text/index.js";

const VOICE = "en-US-AvaMultilingualNeural";

describe("textToSsml", () => {
  it("escapes & < > and both quotes so the text is spoken as written", () => {
    const ssml = textToSsml(`Tom & Jerry <3 "quoted" 'single'`, { voice: VOICE });
    expect(ssml).toContain("<p>Tom &amp; Jerry &lt;3 &quot;quoted&quot; &apos;single&apos;</p>");
    expect(validateSsml(ssml)).toEqual({ ok: true, voices: [VOICE] });
  });

  it("keeps any Unicode, strips the BOM and makes one <p> per paragraph", () => {
    const ssml = textToSsml("\uFEFFПривет, мир.\r\n\r\n漢字とかな 🎉\n\n\n  \nΩ\nline two", { voice: VOICE });
    expect(ssml).not.toContain("\uFEFF");
    expect(ssml.match(/<p>/g)).toHaveLength(3);
    expect(ssml).toContain("<p>Привет, мир.</p><p>漢字とかな 🎉</p><p>Ω line two</p>");
    expect(validateSsml(ssml).ok).toBe(true);
  });

  it("derives xml:lang from the voice and applies prosody and style", () => {
    const ssml = textToSsml("Hi.", {
      voice: "de-DE-KatjaNeural",
      rate: "+10%",
      pitch: "-2st",
      style: "cheerful",
    });
    expect(ssml).toContain('xml:lang="de-DE"');
    expect(ssml).toContain(
      '<mstts:express-as style="cheerful"><prosody rate="+10%" pitch="-2st"><p>Hi.</p></prosody>',
    );
    expect(validateSsml(ssml).ok).toBe(true);
  });

  it("replaces characters XML forbids instead of producing invalid SSML", () => {
    const ssml = textToSsml("bell\u0007 and lone \uD800 surrogate", { voice: VOICE });
    expect(validateSsml(ssml).ok).toBe(true);
    expect(escapeXml("a\u0000b")).toBe("a b");
  });

  it("rejects an empty voice", () => {
    expect(() => textToSsml("x", { voice: " " })).toThrow(TypeError);
  });
});

describe("validateSsml", () => {
  it.each([
    ["", /empty/],
    ["<speak><voice name='a'>Tom & Jerry</voice></speak>", /not well-formed/],
    ["<speak><voice name='a'>open", /not well-formed/],
    ["<voice name='a'>x</voice>", /root element must be <speak>/],
    ["<speak><p>no voice</p></speak>", /no <voice/],
    ["<speak><voice>nameless</voice></speak>", /no name attribute/],
    // Character references to no XML character: the service refuses them, and decoding one threw.
    ["<speak><voice name='a'>x &#x110000; y</voice></speak>", /character reference &#x110000;/],
    ["<speak><voice name='a'>bell &#7;</voice></speak>", /character reference &#7;/],
    ["<speak><voice name='a&#xD800;'>x</voice></speak>", /character reference &#xD800;/],
  ])("rejects %j", (ssml, reason) => {
    const result = validateSsml(ssml);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it("accepts references to real characters, and any text in comments and CDATA", () => {
    const ssml = "<speak><voice name='a'>caf&#233; &#x1F600; <!-- &#0; --><![CDATA[&#1;]]></voice></speak>";
    expect(validateSsml(ssml)).toEqual({ ok: true, voices: ["a"] });
  });

  it("accepts a BOM, an XML declaration and several voices", () => {
    const ssml = `\uFEFF<?xml version="1.0"?><speak version="1.0" xml:lang="en-US"><voice name="a">x</voice><voice name="b">y</voice></speak>`;
    expect(validateSsml(ssml)).toEqual({ ok: true, voices: ["a", "b"] });
  });
});

describe("billableCharacters", () => {
  it("counts every character of plain text, including spaces and punctuation", () => {
    expect(billableCharacters("Hello, world!", "PlainText")).toBe(13);
    expect(billableCharacters("\uFEFFab", "PlainText")).toBe(2);
  });

  it("counts Han characters (Chinese, kanji, hanja) twice, kana and emoji once", () => {
    expect(billableCharacters("漢字", "PlainText")).toBe(4);
    expect(billableCharacters("かな", "PlainText")).toBe(2);
    expect(billableCharacters("한국어", "PlainText")).toBe(3);
    expect(billableCharacters("🎉", "PlainText")).toBe(1);
  });

  it("counts SSML markup except the <speak> and <voice> tags", () => {
    const ssml = `<?xml version="1.0"?><speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">The rainbow has seven colors.</voice></speak>`;
    expect(billableCharacters(ssml, "SSML")).toBe(29);
    const withBreak = `<speak><voice name="a">Hi<break time="1s"/>漢</voice></speak>`;
    expect(billableCharacters(withBreak, "SSML")).toBe(2 + '<break time="1s"/>'.length + 2);
  });
});

describe("splitting for realtime", () => {
  const paragraph = (n: number, words = 12) =>
    Array.from({ length: words }, (_, i) => `Sentence ${n}.${i} says "a & b" here.`).join(" ");

  it("keeps short text whole", () => {
    expect(splitText("One. Two.")).toEqual(["One. Two."]);
  });

  it("splits plain text at paragraphs first, within the limit, losing nothing", () => {
    const text = [paragraph(1, 5), paragraph(2, 5), paragraph(3, 5)].join("\n\n");
    const chunks = splitText(text, { maxCharacters: 400 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(400);
    expect(chunks.join(" ").replace(/\s+/g, " ")).toBe(text.replace(/\s+/g, " "));
    // Paragraph boundaries were preferred: whole paragraphs, joined by a blank line.
    expect(chunks).toEqual([`${paragraph(1, 5)}\n\n${paragraph(2, 5)}`, paragraph(3, 5)]);
  });

  it("falls back to sentences, then words, for long paragraphs", () => {
    const long = paragraph(1, 40);
    const chunks = splitText(long, { maxCharacters: 300 });
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(300);
      expect(c).toMatch(/here\.$/); // every cut is after a sentence
    }
    const words = splitText("word ".repeat(100), { maxCharacters: 50 });
    for (const c of words) expect(c.length).toBeLessThanOrEqual(50);
    expect(words.join(" ").split(/\s+/)).toHaveLength(100);
  });

  it("splits SSML into valid documents, reopening the open elements, never inside an atomic element", () => {
    const body = Array.from(
      { length: 30 },
      (_, i) =>
        `<p>Para ${i} &amp; more text. <say-as interpret-as="date">2024-01-0${i % 9}</say-as> and a <break time="200ms"/> pause. ` +
        `${"Filler words again. ".repeat(5)}</p>`,
    ).join("");
    const ssml = `<speak version="1.0" xml:lang="en-US"><voice name="${VOICE}"><prosody rate="+5%">${body}</prosody></voice></speak>`;
    const chunks = splitForRealtime(ssml, { maxCharacters: 500 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) {
      expect(validateSsml(c)).toEqual({ ok: true, voices: [VOICE] });
      expect(c.startsWith('<speak version="1.0" xml:lang="en-US">')).toBe(true);
      expect(c).toContain('<prosody rate="+5%">');
      const spoken = c.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&");
      expect(spoken.length).toBeLessThanOrEqual(500);
    }
    const sayAs = chunks.join("").match(/<say-as interpret-as="date">[^<]*<\/say-as>/g);
    expect(sayAs).toHaveLength(30);
    const spokenAll = chunks.map((c) => c.replace(/<[^>]+>/g, "")).join("");
    expect(spokenAll.replace(/\s+/g, "")).toBe(body.replace(/<[^>]+>/g, "").replace(/\s+/g, ""));
  });

  it("splits plain text by the same rules through splitForRealtime and weighs CJK heavier", () => {
    const cjk = "这是一个句子。".repeat(2000); // 14,000 characters weighing 35,000
    const chunks = splitForRealtime(cjk);
    expect(chunks).toHaveLength(4);
    for (const c of chunks) expect(c.endsWith("。")).toBe(true);
  });

  it("reads a rate name only from the named rates: an Object.prototype key is no rate", () => {
    // "constructor" used to return Object itself, and the slowest rate of the document became NaN
    // (then taken as 1): chunks sized for normal speed under an x-slow passage.
    expect(prosodyRateFactor("constructor")).toBe(1);
    expect(prosodyRateFactor("toString")).toBe(1);
    const ssml = `<speak><voice name="a"><prosody rate="constructor">a</prosody><prosody rate="x-slow">b</prosody></voice></speak>`;
    expect(slowestProsodyRate(ssml)).toBe(0.5);
  });

  it("clamps percentages and multipliers alike to half to three times", () => {
    expect(prosodyRateFactor("-80%")).toBe(0.5);
    expect(prosodyRateFactor("0.1")).toBe(0.5);
    expect(prosodyRateFactor("+400%")).toBe(3);
    expect(prosodyRateFactor("7")).toBe(3);
  });
});

describe("decodeXmlEntities", () => {
  it("decodes the five named entities and character references once, leaving no-character references", () => {
    expect(decodeXmlEntities("&amp;lt; &lt;&gt;&quot;&apos; caf&#233; &#x1F600;")).toBe(`&lt; <>"' café 😀`);
    expect(decodeXmlEntities("&#x110000; &nbsp;")).toBe("&#x110000; &nbsp;");
  });
});
