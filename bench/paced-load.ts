/**
 * Open-loop load at a fixed rate: POSTs go out on 10 ms ticks whether or not earlier ones
 * were answered, so a slow server shows as latency downstream rather than as a lower rate
 * (autocannon's rate limit sends each second's requests in one burst, which would measure
 * the burst instead). The body is built per request, so it can carry the send time.
 */
import { Agent, request } from 'undici';

export interface PacedOptions {
  url: string;
  headers?: Record<string, string>;
  /** the body of each request, built just before it is sent */
  body: () => string;
  ratePerS: number;
  durationS: number;
}

export interface PacedResult {
  sent: number;
  /** send → answer of the requests */
  p50Ms: number;
  p99Ms: number;
}

export interface PacedLoader {
  /** sends at the rate for the duration; resolves once all were answered (any non-2xx rejects) */
  pace(options: PacedOptions): Promise<PacedResult>;
  /** one request, for setup steps (creating a stream, a token); answers the parsed JSON body */
  post<T = unknown>(url: string, headers: Record<string, string>, body: unknown): Promise<T>;
  close(): Promise<void>;
}

export function pacedLoader(): PacedLoader {
  // a bounded pool, so a burst queues here rather than opening sockets without end
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

  const send = async (url: string, headers: Record<string, string> | undefined, body: string): Promise<string> => {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${text}`);
    return text;
  };

  return {
    async pace(options) {
      const perTick = options.ratePerS / 100;
      const total = Math.round(options.ratePerS * options.durationS);
      const inflight: Promise<number>[] = [];
      const timed = async (body: string) => {
        const at = performance.now();
        await send(options.url, options.headers, body);
        return performance.now() - at;
      };
      const begin = performance.now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - begin) / 10 + 1) * perTick));
        while (sent < due) {
          inflight.push(timed(options.body()));
          sent++;
        }
        await new Promise((r) => setTimeout(r, 10 - ((performance.now() - begin) % 10)));
      }
      const latencies = Float64Array.from(await Promise.all(inflight)).sort();
      const pick = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
      return { sent, p50Ms: pick(0.5), p99Ms: pick(0.99) };
    },
    async post<T>(url: string, headers: Record<string, string>, body: unknown): Promise<T> {
      const text = await send(url, headers, JSON.stringify(body));
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    close: () => agent.close(),
  };
}
