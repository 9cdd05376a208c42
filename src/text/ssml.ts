import { XMLParser, XMLValidator } from "fast-xml-parser";

/** Options of {@link textToSsml}; `rate`/`pitch` use SSML prosody values ("+10%", "slow", "-2st"). */
export interface TextToSsmlOptions {
  voice: string;
  /** `xml:lang` of the document; defaults to the voice's locale ("en-US-AvaMultilingualNeural" -> "en-US"). */
  lang?: string;
  rate?: string;
  pitch?: string;
  /** `mstts:express-as` style, e.g. "cheerful"; only some voices support styles. */
  style?: string;
}

const SSML_NAMESPACE = "http://www.w3.org/2001/10/synthesis";
const MSTTS_NAMESPACE = "https://www.w3.org/2001/mstts";

/** Strips a leading UTF-8 byte order mark (U+FEFF). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Escapes text for XML (SSML, SVG) and HTML content and attribute values. Characters XML 1.0 forbids (C0 controls other
 * than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become spaces: the service would reject the
 * whole document otherwise, and they carry nothing audible.
 */
export function escapeXml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, " ")
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, " ")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * Decodes XML's five named entities and numeric character references in one pass (so `&amp;lt;` stays
 * `&lt;`). A reference to no valid code point is left as written rather than thrown on.
 */
export function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (whole, name: string) => {
    if (!name.startsWith("#")) return NAMED_ENTITIES[name] ?? whole;
    const code = name.startsWith("#x") ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** The locale part of a voice name ("en-US-AvaMultilingualNeural" -> "en-US"), if it has one. */
export function voiceLocale(voice: string): string | undefined {
  const match = /^([a-z]{2,3}-[A-Z]{2,4}(?:-[A-Za-z]+)?)-[A-Z]/.exec(voice);
  return match?.[1];
}

/** Splits plain text into paragraphs at blank lines; BOM stripped, line endings normalized, empty ones dropped. */
export function textParagraphs(text: string): string[] {
  return stripBom(text)
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t\u00A0]*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, " ").trim())
    .filter((p) => p.length > 0);
}

/**
 * Plain text -> one SSML document: every paragraph a `<p>`, all text escaped, so `&`, `<`, quotes and
 * any Unicode are spoken as written.
 */
export function textToSsml(text: string, options: TextToSsmlOptions): string {
  if (!options.voice.trim()) throw new TypeError("A voice is required to build SSML.");
  const body = textParagraphs(text)
    .map((p) => `<p>${escapeXml(p)}</p>`)
    .join("");
  let inner = body;
  const prosody: string[] = [];
  if (options.rate) prosody.push(`rate="${escapeXml(options.rate)}"`);
  if (options.pitch) prosody.push(`pitch="${escapeXml(options.pitch)}"`);
  if (prosody.length > 0) inner = `<prosody ${prosody.join(" ")}>${inner}</prosody>`;
  if (options.style)
    inner = `<mstts:express-as style="${escapeXml(options.style)}">${inner}</mstts:express-as>`;
  return speakDocument(options.voice, inner, options.lang);
}

/**
 * `<speak>` (SSML and mstts namespaces) around one `<voice>` holding `inner` (already SSML); `lang` defaults
 * to the voice's locale, else en-US.
 */
export function speakDocument(voice: string, inner: string, lang?: string): string {
  const xmlLang = lang ?? voiceLocale(voice) ?? "en-US";
  return (
    `<speak version="1.0" xmlns="${SSML_NAMESPACE}" xmlns:mstts="${MSTTS_NAMESPACE}" xml:lang="${escapeXml(xmlLang)}">` +
    `<voice name="${escapeXml(voice)}">${inner}</voice></speak>`
  );
}

export type SsmlValidation = { ok: true; voices: string[] } | { ok: false; reason: string };

const validationParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  preserveOrder: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
});

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

function collectVoices(nodes: OrderedNode[], voices: Set<string>, missingName: { count: number }): void {
  for (const node of nodes) {
    for (const [key, value] of Object.entries(node)) {
      if (key === ":@" || key === "#text" || !Array.isArray(value)) continue;
      if (key === "voice") {
        const name = node[":@"]?.name;
        if (name?.trim()) voices.add(name.trim());
        else missingName.count++;
      }
      collectVoices(value as OrderedNode[], voices, missingName);
    }
  }
}

/** XML 1.0's Char production: tab, LF, CR and the code points from U+0020 on, less surrogates and U+FFFE/F. */
function isXmlCharacter(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/**
 * The first character reference (`&#1;`, `&#x110000;`) outside comments and CDATA that names no XML
 * character. fast-xml-parser's validator lets them through; the service's parser refuses the document,
 * and decoding one would throw.
 */
function forbiddenCharacterReference(source: string): string | undefined {
  const outsideLiterals = source.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  for (const match of outsideLiterals.matchAll(/&#(x[0-9a-fA-F]+|[0-9]+);/g)) {
    const digits = match[1] ?? "";
    const code = digits.startsWith("x") ? Number.parseInt(digits.slice(1), 16) : Number(digits);
    if (!isXmlCharacter(code)) return match[0].length <= 16 ? match[0] : `${match[0].slice(0, 15)}…`;
  }
  return undefined;
}

/**
 * Checks user SSML before it is sent: well-formed XML, a `<speak>` root, and at least one
 * `<voice name="…">`. The reason is short and safe to show (it never echoes the document).
 */
export function validateSsml(ssml: string): SsmlValidation {
  const source = stripBom(ssml).trim();
  if (!source) return { ok: false, reason: "The SSML document is empty." };
  const wellFormed = XMLValidator.validate(source);
  if (wellFormed !== true) {
    const { msg, line, col } = wellFormed.err;
    return { ok: false, reason: `The SSML is not well-formed XML (line ${line}, column ${col}): ${msg}` };
  }
  const badReference = forbiddenCharacterReference(source);
  if (badReference) {
    return {
      ok: false,
      reason: `The SSML is not well-formed XML: the character reference ${badReference} names no character XML allows.`,
    };
  }
  const nodes = validationParser.parse(source) as OrderedNode[];
  const roots = nodes.filter((n) => !("#text" in n) && !Object.keys(n).some((k) => k.startsWith("?")));
  const rootName = roots[0] ? Object.keys(roots[0]).find((k) => k !== ":@") : undefined;
  if (roots.length !== 1 || rootName !== "speak") {
    return { ok: false, reason: `The SSML root element must be <speak> (found <${rootName ?? "nothing"}>).` };
  }
  const voices = new Set<string>();
  const missingName = { count: 0 };
  collectVoices(roots, voices, missingName);
  if (missingName.count > 0) return { ok: false, reason: "A <voice> element has no name attribute." };
  if (voices.size === 0) return { ok: false, reason: 'The SSML has no <voice name="…"> element.' };
  return { ok: true, voices: [...voices] };
}
