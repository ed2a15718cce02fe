/**
 * A real webhook receiver on a free loopback port, for tests of forwarding: it records every
 * request (raw body and headers) and answers with whatever the test decides.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived. */
  body: string;
}

export interface WebhookAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WebhookServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaces the answer function. */
  answer(respond: (request: ReceivedRequest) => WebhookAnswer | Promise<WebhookAnswer>): void;
  /** Resolves when the `n`th request (1-based) has arrived. */
  request(n: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startWebhookServer(
  respond: (request: ReceivedRequest) => WebhookAnswer | Promise<WebhookAnswer> = () => ({ status: 200 }),
): Promise<WebhookServer> {
  let answerWith = respond;
  const requests: ReceivedRequest[] = [];
  const waiters: { n: number; resolve: (r: ReceivedRequest) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      for (const waiter of waiters.filter((w) => w.n <= requests.length)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(requests[waiter.n - 1]!);
      }
      Promise.resolve(answerWith(received)).then(
        (answer) => {
          res.writeHead(answer.status ?? 200, answer.headers ?? {});
          res.end(answer.body ?? '');
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    port,
    requests,
    answer(next) {
      answerWith = next;
    },
    request(n) {
      if (requests.length >= n) return Promise.resolve(requests[n - 1]!);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** A URL on loopback where nothing listens (a port that was just free). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/webhook`;
}
