/**
 * A stand-in for an OpenAI-compatible server on a free local port, so the tests need neither a
 * key nor a network. It answers every chat completion with `reply(lastUserMessage)`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLlm {
  url: string;
  /** The requests received so far: their headers and JSON bodies. */
  requests: {
    headers: IncomingHttpHeaders;
    body: { model?: string; messages?: { role: string; content: string }[] };
  }[];
  close(): Promise<void>;
}

export async function startFakeLlm(reply: (prompt: string) => string): Promise<FakeLlm> {
  const requests: FakeLlm['requests'] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as FakeLlm['requests'][number]['body'];
      requests.push({ headers: req.headers, body });
      const last = body.messages?.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: reply(last) } }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
