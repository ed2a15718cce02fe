/**
 * A REST call as any party, for tests that poke the platform directly: the envelope unwrapped and
 * errors thrown as for `ctx.api`, `data` returned as the test says it is. Library code uses the
 * typed `PartyClient` (src/party/client.ts) instead.
 */
import { ApiClient } from '../../src/api/client.js';
import type { PeerOptions } from '../../src/party/peer.js';

export function restCall<T = unknown>(
  options: PeerOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  return new ApiClient({ baseUrl: options.url, token: options.token }).request<T>(method, path, body);
}
