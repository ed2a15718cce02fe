/**
 * The REST envelope and input checks shared by every route: `{ success, data, traceId }`, errors
 * as `{ success: false, error: { code, message, details } }` with the HTTP status they deserve,
 * and zod validation of bodies, query strings and path ids that names the offending field.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { refuse } from '../refuse.js';
import { applyDialect, type IdDialect } from '../dialect.js';
import type { AgentRecord, State } from '../state.js';

/**
 * Hono's environment for the platform: the Node response the adapter passes along (absent when the
 * app is called without a server), the authenticated agent, the request's trace id, and the status
 * of an answer written straight to the socket (for the request log).
 */
export type AppEnv = {
  Bindings: { outgoing?: ServerResponse } | undefined;
  Variables: { agent: AgentRecord; traceId: string; idDialect: IdDialect; status: number };
};
export type Ctx = Context<AppEnv>;

/** A success envelope. */
export function ok(c: Ctx, data: unknown, status: ContentfulStatusCode = 200): Response {
  const dialect = c.get('idDialect') ?? 'client';
  return send(c, status, { success: true, data: applyDialect(data, dialect), traceId: c.get('traceId') });
}

/** An error envelope. */
export function fail(c: Ctx, status: number, code: string, message: string, details?: unknown): Response {
  const error = details === undefined ? { code, message } : { code, message, details };
  return send(c, status as ContentfulStatusCode, { success: false, error, traceId: c.get('traceId') });
}

/**
 * Writes a JSON envelope straight to the Node response. The platform leaves the host's global
 * `Response` alone (it runs inside dev mode and tests), so an answer made with `c.json` is a web
 * Response that @hono/node-server reads back through a ReadableStream: a fifth of the platform's
 * CPU per request when a catch-up reads 50,000 histories (docs/benchmarks.md). The bytes and
 * headers on the wire are the same: `content-type: application/json`, `content-length`, `x-trace-id`.
 */
function send(c: Ctx, status: ContentfulStatusCode, envelope: unknown): Response {
  c.set('status', status);
  const outgoing = c.env?.outgoing;
  if (!outgoing || outgoing.headersSent) return c.json(envelope, status);
  const text = JSON.stringify(envelope);
  const traceId = c.get('traceId');
  outgoing.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(traceId ? { 'x-trace-id': traceId } : {}),
  });
  outgoing.end(text);
  return RESPONSE_ALREADY_SENT;
}

/** Gives every request a trace id (echoed in `X-Trace-Id`). */
export const traceIds: MiddlewareHandler<AppEnv> = async (c, next) => {
  const traceId = `tr_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  c.set('traceId', traceId);
  // Set before the answer is made, so an answer made by Hono (not `send`) carries it: set after,
  // Hono would rebuild that answer to add it.
  c.header('X-Trace-Id', traceId);
  await next();
};

/** `X-API-Key` (any case) or `?api_key=`; 401 otherwise. */
export function requireAgent(state: State): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = c.req.header('x-api-key') ?? c.req.query('api_key');
    const agent = token ? state.agentByToken(token) : undefined;
    if (!agent) {
      return fail(
        c,
        401,
        'UNAUTHORIZED',
        token
          ? 'authentication failed: invalid API key'
          : 'authentication required: send your token in the X-API-Key header',
      );
    }
    c.set('agent', agent);
    await next();
  };
}

/** Turns thrown errors into envelopes; unexpected ones are logged and answered 500. */
export function errorHandler(logger: Logger) {
  return (error: Error, c: Ctx): Response => {
    if (error instanceof PlatformError)
      return fail(c, error.status, error.platformCode, error.message, error.details);
    logger.error({ err: error, path: c.req.path }, 'REST handler failed');
    return fail(c, 500, 'INTERNAL_ERROR', 'the platform failed to handle this request; see its log');
  };
}

/** Parses and validates the JSON body; an empty body counts as `{}`. */
export async function body<S extends z.ZodType>(c: Ctx, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw refuse(400, 'VALIDATION_ERROR', `request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  return check(schema, raw, 'body');
}

/** Validates the query string. */
export function query<S extends z.ZodType>(c: Ctx, schema: S): z.output<S> {
  return check(schema, c.req.query(), 'query');
}

/** A positive integer path parameter. */
export function idParam(c: Ctx, name: string): number {
  const raw = c.req.param(name) ?? '';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw refuse(
      400,
      'VALIDATION_ERROR',
      `path parameter "${name}" must be a positive integer, got ${JSON.stringify(raw)}`,
      {
        field: name,
        in: 'path',
      },
    );
  }
  return Number(raw);
}

function check<S extends z.ZodType>(schema: S, raw: unknown, where: 'body' | 'query'): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(root)',
    // Coercion turns a missing id into NaN; say "required" rather than "received NaN".
    message:
      issue.path.length > 0 && valueAt(raw, issue.path) === undefined
        ? `required (${issue.message})`
        : issue.message,
  }));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw refuse(400, 'VALIDATION_ERROR', `invalid ${where}: "${first.field}": ${first.message}${more}`, {
    in: where,
    field: first.field,
    issues,
  });
}

/** Numbers in requests, decimal strings in responses. */
export function amount(value: number | string): string {
  return typeof value === 'number' ? String(value) : value.replace(/^0+(?=\d)/, '');
}

/** `{ page, limit }` slice of a list, plus its total. */
export function paginate<T>(
  items: T[],
  page: number,
  limit: number,
): { items: T[]; total: number; page: number; limit: number } {
  return { items: items.slice((page - 1) * limit, page * limit), total: items.length, page, limit };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
