/**
 * What answers on the server's port while the store is being opened. It takes the port first,
 * so a port in use is found before anything else is opened or written, and so orchestrators and
 * load balancers get an answer rather than a refused connection while a cluster is unreachable:
 * `/healthz` is alive, `/readyz` is 503 with the reason, and every other request is a 503
 * problem with Retry-After. Once the store is open it gives the port back to the real app.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RivuletError } from '../kernel/errors.js';
import { problemHeaders, problemOf } from '../http/problem.js';

export interface StartingServer {
  /** the port it listens on (the one asked for, or the one the OS chose for port 0) */
  port: number;
  /** what `/readyz` reports as the reason it is not ready */
  setReason(reason: string): void;
  /** stops listening and ends its connections */
  close(): Promise<void>;
}

export async function listenWhileStarting(host: string, port: number, store: string): Promise<StartingServer> {
  let reason = 'opening the store';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // not kept alive: the real app takes over this port shortly
    res.setHeader('connection', 'close');
    if (path === '/healthz') return json(res, 200, { status: 'starting' });
    if (path === '/readyz') return json(res, 503, { status: 'starting', store, reason });
    const err = new RivuletError('STORE_UNAVAILABLE', `the server is starting: ${reason}`, { retryAfter: 5 });
    const problem = problemOf(err, randomUUID());
    res.writeHead(problem.status, {
      ...problemHeaders(err, problem.status),
      'content-type': 'application/problem+json',
    });
    res.end(JSON.stringify(problem));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    setReason: (next) => {
      reason = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
