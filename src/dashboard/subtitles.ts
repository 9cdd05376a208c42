/**
 * SRT (as the pipeline stores it) to WebVTT (what `<track>` reads): a header, and `.` instead of `,` in
 * cue times. Cue numbers are kept as cue identifiers, which WebVTT allows.
 */
export function srtToWebVtt(srt: string): string {
  const body = srt
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .replace(/(\d{2}:\d{2}:\d{2}),(\d{3})/g, "$1.$2");
  return `WEBVTT\n\n${body.trim()}\n`;
}
