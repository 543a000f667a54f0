import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; workspace: string; account: string; occurred_at: string; data: Record<string, unknown> };
  status: number;
}

/** A receiver on loopback that records every request and answers what `answer` says (200 by default). */
export async function receiver(t: Test, answer: (r: Omit<Received, 'status'>) => number = () => 200) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r = { headers: req.headers, body, json: JSON.parse(body) as Received['json'] };
      const status = answer(r);
      requests.push({ ...r, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return { requests, url: `http://127.0.0.1:${port}/hook`, accepted: () => requests.filter((r) => r.status < 300) };
}

export async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
