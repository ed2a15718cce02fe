/**
 * The dev API (`/dev/*`) acts as any party without a token: fine on 127.0.0.1, an open door on a
 * network interface. From a non-loopback client it needs the `--dev-token` (header
 * `X-C4C-Dev-Token`); without one configured, it is refused outright.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header a remote client sends the dev token in (as users write it; Node lowercases it). */
export const DEV_TOKEN_HEADER = 'X-C4C-Dev-Token';

/** Whether an address (a host to bind, or a peer's address) is the local machine only. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.replace(/^\[|\]$/g, '').replace(/^::ffff:/i, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** Answers 403 and returns `true` when a `/dev/*` request may not pass. */
export function refuseDevRequest(
  req: IncomingMessage,
  res: ServerResponse,
  devToken: string | undefined,
): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path !== '/dev' && !path.startsWith('/dev/')) return false;
  if (isLoopback(req.socket.remoteAddress)) return false;
  const given = req.headers[DEV_TOKEN_HEADER.toLowerCase()];
  if (devToken && typeof given === 'string' && same(given, devToken)) return false;
  const message = devToken
    ? `the dev API needs the dev token from a non-local client: send it in the ${DEV_TOKEN_HEADER} header`
    : `the dev API answers local clients only (it acts as any party without a token); start the platform with --dev-token <t> and send it in the ${DEV_TOKEN_HEADER} header to use it from another machine`;
  res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ success: false, error: { code: 'DEV_API_REFUSED', message } }));
  return true;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
