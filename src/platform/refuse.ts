/** The platform's refusals: a `PlatformError` with the HTTP status and the wire code to answer with. */
import { PlatformError } from '../errors.js';

export function refuse(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): PlatformError {
  return new PlatformError(status, code, message, details ? { details } : undefined);
}

export const notFound = (what: string, details?: Record<string, unknown>) =>
  refuse(404, 'NOT_FOUND', `${what} not found`, details);
export const forbidden = (message: string, details?: Record<string, unknown>) =>
  refuse(403, 'FORBIDDEN', message, details);
export const invalidState = (message: string, details?: Record<string, unknown>) =>
  refuse(409, 'INVALID_STATE', message, details);
