/**
 * The socket's address and the sentences that explain why it failed. Kept apart from the state
 * machine so each message can be read (and improved) in one place.
 */
import { C4cError } from '../errors.js';

/** Checks the WebSocket URL early, with the fix in the message. */
export function validateUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new C4cError(
      'E_CONFIG',
      `platform WebSocket URL ${JSON.stringify(url)} is not a URL; expected e.g. ws://127.0.0.1:7420/ws`,
    );
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new C4cError(
      'E_CONFIG',
      `platform WebSocket URL must start with ws:// or wss://, got ${parsed.protocol}//; for an API base such as https://… use wsUrlFor(base)`,
    );
  }
  return parsed.toString();
}

/** The URL with the token as query `api_key` (the header `X-API-Key` carries it too; docs/protocol.md). */
export function socketUrl(url: string, token: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('api_key', token);
  return parsed.toString();
}

/** HTTP 401/403 on the upgrade: the token is wrong, and retrying will not fix it. */
export function authError(status: number, url: string): C4cError {
  return new C4cError(
    'E_AUTH',
    `authentication failed: invalid API key — check C4C_API_TOKEN / platform.token (the platform at ${url} answered HTTP ${status})`,
    { details: { status } },
  );
}

/** `maxAttempts` spent without a connection. */
export function givenUpError(
  retries: number,
  url: string,
  cause: string,
  error: Error | undefined,
): C4cError {
  return new C4cError(
    'E_NETWORK',
    `could not connect to the platform at ${url}: gave up after ${retries} reconnect attempt(s) (last failure: ${cause}); check platform.url / C4C_API_ENDPOINT and that the platform is up, or raise reconnect.maxAttempts`,
    { cause: error, details: { retries } },
  );
}

/** One short phrase for a log line: why did this socket end? */
export function describeClose(
  code: number,
  reason: string,
  refusedStatus: number | undefined,
  error: Error | undefined,
): string {
  if (refusedStatus !== undefined) return `the platform answered the upgrade with HTTP ${refusedStatus}`;
  if (error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return reason ? `closed with code ${code}: ${reason}` : `closed with code ${code}`;
}
