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
 * Escapes text for XML content and attribute values. Characters XML 1.0 forbids (C0 controls other
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
  const lang = options.lang ?? voiceLocale(options.voice) ?? "en-US";
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
  return (
    `<speak version="1.0" xmlns="${SSML_NAMESPACE}" xmlns:mstts="${MSTTS_NAMESPACE}" xml:lang="${escapeXml(lang)}">` +
    `<voice name="${escapeXml(options.voice)}">${inner}</voice></speak>`
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
