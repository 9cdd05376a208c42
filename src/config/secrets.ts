/**
 * Secrets never reach logs, statuses, manifests or messages (CONTRACT; docs/operations.md). The one redaction
 * of free text, used by the Speech clients' errors and by every pipeline log line (src/observability/events.ts).
 */

/** Query parameters safe to show in a URL inside an error or a log line; every other value is redacted. */
const SAFE_QUERY_PARAMETERS = new Set([
  "api-version",
  "skip",
  "maxpagesize",
  "sv",
  "se",
  "st",
  "sr",
  "sp",
  "spr",
  "comp",
  "restype",
]);

/**
 * A URL with its secrets removed: every query value not on the allow-list (SAS `sig`, `skoid`, tokens…)
 * becomes REDACTED, and user info is dropped. Text that is not a URL comes back unchanged.
 */
export function sanitizeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    for (const key of [...parsed.searchParams.keys()]) {
      if (!SAFE_QUERY_PARAMETERS.has(key.toLowerCase())) parsed.searchParams.set(key, "REDACTED");
    }
    return parsed.toString();
  } catch {
    return url;
  }
}

const URL_IN_TEXT = /https?:\/\/[^\s"'<>)]+/g;
/** A SAS signature outside a whole URL (a bare query string). */
const SIG_IN_TEXT = /([?&]sig=)[^&\s"'<>]+/gi;
/** Bearer tokens (the realtime endpoint's `aad#{resourceId}#{token}` form whole) and SAS connection parts. */
const TOKEN_IN_TEXT = /\b(Bearer|SharedAccessSignature)(\s*[:=]?\s*)[^\s"']+/gi;
/** Keys as headers or connection-string parts: `Ocp-Apim-Subscription-Key: …`, `AccountKey=…`, `key=…`. */
const KEY_IN_TEXT = /\b((?:Ocp-Apim-Subscription-Key|AccountKey|SharedAccessKey|key)\s*[:=]\s*)[^\s;"',&]+/gi;

/**
 * Removes secrets from free text (error messages, log lines): every URL's query values but the allow-listed
 * ones, SAS signatures, bearer tokens, account and subscription keys, and the given secret values.
 */
export function sanitizeMessage(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(URL_IN_TEXT, (u) => sanitizeUrl(u))
    .replace(SIG_IN_TEXT, "$1REDACTED")
    .replace(TOKEN_IN_TEXT, "$1$2REDACTED")
    .replace(KEY_IN_TEXT, "$1REDACTED");
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("REDACTED");
  }
  return out;
}
