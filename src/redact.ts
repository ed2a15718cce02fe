/**
 * Token redaction. API tokens must never reach a log: not in headers, not in a URL's `api_key`,
 * not in a config dump, not inside an error message.
 */

/** Tokens look like `cl_…`; anything after `api_key=` or an `X-API-Key` header is one too. */
const PATTERNS: RegExp[] = [
  /\bcl_[A-Za-z0-9_-]{2,}/g,
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
      typeof prefix === 'string' ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return out;
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
  'platform.token',
  'config.platform.token',
  'secret',
  '*.secret',
  'config.webhook.secret',
];
