/**
 * A real HTTP receiver on 127.0.0.1:0 for sink tests: records every request and answers as
 * the test's handler says (fail on purpose: 5xx, 429, hang, reset, 410).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/delivery/signing.js';
import { track } from './resources.js';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (req: Received, res: ServerResponse, n: number) => void;

export interface Receiver {
  url: string;
  requests: Received[];
  handle: Handler;
  close(): Promise<void>;
}

export async function startReceiver(handle: Handler = (_r, res) => res.end('ok')): Promise<Receiver> {
  const requests: Received[] = [];
  let closed = false;
  const receiver: Receiver = {
    url: '',
    requests,
    handle,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(got);
      receiver.handle(got, res, requests.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return track(`receiver ${receiver.url}`, receiver, () => closed);
}

/** whether a received webhook carries a valid Standard Webhooks signature made with `secret` */
export function signedWith(q: Received, secret: string): boolean {
  try {
    verifyWebhook({ headers: q.headers, body: q.body, secrets: [secret] });
    return true;
  } catch {
    return false;
  }
}

/** how many signatures a received webhook carries (one per signing secret) */
export function signaturesOn(q: Received): number {
  return String(q.headers['webhook-signature']).split(' ').length;
}
