/** The warning `dev` and `platform` print when the embedded platform listens beyond this machine. */
import { DEV_TOKEN_HEADER, isLoopback } from '../platform/dev-guard.js';

/** A sentence for a non-loopback host, `undefined` for a loopback one. */
export function exposureWarning(host: string, devToken: string | undefined): string | undefined {
  if (isLoopback(host)) return undefined;
  const access = devToken
    ? `other machines need the --dev-token in the ${DEV_TOKEN_HEADER} header to use /dev/*`
    : 'requests to /dev/* from other machines are refused (give --dev-token <t> to allow them)';
  return `the embedded platform listens on ${host}, beyond this machine: its /dev/* API acts as any party without a token, and the seeded tokens are printed here; ${access}. Use --host 127.0.0.1 unless you need it.`;
}
