/**
 * Token redaction. API tokens must never reach a log: not in headers, not in a URL's `api_key`,
 * not in a config dump, not inside an error message.
 */

/**
 * Tokens look like `cl_…`; anything after `api_key=` or an `X-API-Key` header is one too, and so is
 * the user info of a URL (`https://user:pass@host`, an `Authorization: Basic` header).
 */
const PATTERNS: RegExp[] = [
  /\bcl_[A-Za-z0-9_-]{2,}/g,
  /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi,
  /(authorization["']?\s*[:=]\s*["']?(?:basic|bearer)\s+)[^\s"',}]+/gi,
  /(api_key=)[^&\s"']+/gi,
  /(x-api-key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
];

export const REDACTED = '[redacted]';

/** Replaces every token-like substring, plus the given known secrets, with `[redacted]`. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string) =>
      typeof prefix === 'string' ? `${prefix}${REDACTED}${match.endsWith('@') ? '@' : ''}` : REDACTED,
    );
  }
  return out;
}

/**
 * A URL fit for a log line or an error message: its user info and every query value replaced
 * (a webhook URL often carries its secret as `?token=…`). Parameter names stay, for debugging.
 * A string that is not a URL goes through {@link redactText}.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactText(url);
  }
  if (parsed.username || parsed.password) {
    parsed.username = REDACTED;
    parsed.password = '';
  }
  const names = [...new Set(parsed.searchParams.keys())];
  // Built by hand: URLSearchParams would percent-encode the brackets of "[redacted]".
  const query = names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join('&');
  parsed.search = '';
  const text = parsed.toString().replace(`${encodeURIComponent(REDACTED)}@`, `${REDACTED}@`);
  if (!query) return text;
  const hash = text.indexOf('#');
  return hash === -1 ? `${text}?${query}` : `${text.slice(0, hash)}?${query}${text.slice(hash)}`;
}

/**
 * A URL without its user info, and that user info as an HTTP Basic `Authorization` header (as
 * curl does with `https://user:pass@host`): `fetch` refuses URLs that carry credentials.
 */
export function splitCredentials(url: string): { url: string; authorization: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, authorization: undefined };
  }
  if (!parsed.username && !parsed.password) return { url, authorization: undefined };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.toString(),
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  };
}

/** Paths pino should censor in any log object. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'api_token',
  '*.api_token',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  'headers.authorization',
  '*.headers.authorization',
  'platform.token',
  'config.platform.token',
  'secret',
  '*.secret',
  'config.webhook.secret',
];
