/**
 * Readable logs for a terminal: one line per request (`POST /v1/streams/orders/events 201
 * 2.1 ms`) and one per other message, formatted by pino-pretty.
 *
 * The logger writes the same JSON lines either way (so redaction, trace ids and every field
 * are decided in one place); this destination reads them back. fastify logs a request twice
 * (as it arrives, and when answered, without the URL), so the arrival line is held by request
 * id and folded into the answer's line, and so is a refusal's reason (logged on its own line
 * for a 4xx: `GET /v1/streams 401 0.8 ms UNAUTHENTICATED: this route needs a key`). Arrivals never answered (a client gone before the
 * answer) are dropped oldest first beyond a bound, so memory cannot grow with them.
 */
import { prettyFactory } from 'pino-pretty';

/** arrivals waiting for their answer line; beyond it the oldest is forgotten */
const MAX_PENDING = 10_000;

interface LogLine {
  msg?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  code?: string;
  detail?: string;
  [field: string]: unknown;
}

interface Pending {
  req: LogLine['req'];
  refusal?: string;
}

export interface PrettyLogOptions {
  colour: boolean;
  write(text: string): void;
}

/** a pino destination: takes pino's JSON lines, writes readable ones */
export function prettyLogDestination(options: PrettyLogOptions): { write(text: string): void } {
  const pretty = prettyFactory({
    colorize: options.colour,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,req,res,responseTime,refusal,component,trace_id,span_id',
    messageFormat: (log: LogLine, messageKey: string) => {
      if (log.req && log.res) {
        const ms = typeof log.responseTime === 'number' ? ` ${log.responseTime.toFixed(1)} ms` : '';
        const refusal = typeof log.refusal === 'string' ? ` ${log.refusal}` : '';
        return `${log.req.method ?? ''} ${log.req.url ?? ''} ${log.res.statusCode ?? ''}${ms}${refusal}`;
      }
      return String(log[messageKey] ?? '');
    },
  });
  const arrivals = new Map<string, Pending>();
  let partial = '';
  const line = (text: string): void => {
    let log: LogLine;
    try {
      log = JSON.parse(text) as LogLine;
    } catch {
      options.write(`${text}\n`);
      return;
    }
    if (log.msg === 'incoming request' && log.reqId !== undefined && log.req) {
      arrivals.set(log.reqId, { req: log.req });
      if (arrivals.size > MAX_PENDING) arrivals.delete(arrivals.keys().next().value!);
      return;
    }
    const pending = log.reqId === undefined ? undefined : arrivals.get(log.reqId);
    if (log.msg === 'request refused' && pending) {
      pending.refusal = `${log.code ?? ''}: ${log.detail ?? ''}`;
      return;
    }
    if (log.msg === 'request completed' && log.reqId !== undefined) {
      log.req = pending?.req;
      if (pending?.refusal) log.refusal = pending.refusal;
      arrivals.delete(log.reqId);
      // the request line says it all: the message is replaced by the method, URL and status
      if (log.req) log.msg = '';
    }
    options.write(pretty(log));
  };
  return {
    write(text: string) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const one of lines) if (one) line(one);
    },
  };
}
