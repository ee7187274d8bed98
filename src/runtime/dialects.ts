/**
 * The dialects, composed: each built from its own folder with the services it uses, in the
 * order their routes are registered (and their mounts matched). The HTTP layer takes them as
 * `Dialect`s and knows none of them.
 */
import type { CoreServices } from '../core/services.js';
import type { Dialect } from '../http/dialect.js';
import type { Store } from '../store/port.js';
import { aether } from '../dialects/aether/aether-dialect.js';
import type { AetherOptions } from '../dialects/aether/aether-jobs.js';
import type { DsOptions } from '../dialects/durable-streams/ds-context.js';
import { durableStreams } from '../dialects/durable-streams/ds-dialect.js';
import { eventServer } from '../dialects/eventserver/eventserver-dialect.js';
import { iflux } from '../dialects/iflux/iflux-dialect.js';
import type { IfluxOptions } from '../dialects/iflux/iflux-plugin.js';
import { okdata } from '../dialects/okdata/okdata-dialect.js';
import type { OkdataService } from '../dialects/okdata/okdata-service.js';
import type { OkdataSinkOptions } from '../dialects/okdata/okdata-sinks.js';
import { specstore } from '../dialects/specstore/specstore-dialect.js';

/** settings of the seed dialects; defaults when absent */
export interface DialectOptions {
  iflux?: IfluxOptions;
  aether?: AetherOptions;
  durableStreams?: Partial<DsOptions>;
  /** where okdata's s3 and elasticsearch sinks deliver (none: not offered) and their policies */
  okdata?: Partial<OkdataSinkOptions>;
}

export interface ComposedDialects {
  dialects: Dialect[];
  /** okdata's dataset lifecycle (the start-up and tests reach it directly) */
  okdata: OkdataService;
}

export function composeDialects(
  services: CoreServices,
  store: Store,
  options: DialectOptions,
  limits: { maxJsonDepth: number },
): ComposedDialects {
  const { streams, produce, read, live, clock, sinks } = services;
  const okdataDialect = okdata({
    catalog: store.streams,
    documents: store.documents,
    streams,
    produce,
    read,
    live,
    clock,
    sinks,
    sinkOptions: options.okdata,
  });
  return {
    okdata: okdataDialect.service,
    dialects: [
      eventServer(services),
      iflux(services, options.iflux),
      specstore(services),
      aether({ sinks, clock, documents: store.documents }, options.aether),
      durableStreams(
        { clock, produce, streams, store: { events: store.events, streams: store.streams } },
        options.durableStreams,
        limits,
      ),
      okdataDialect,
    ],
  };
}
