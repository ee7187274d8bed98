/**
 * Every setting of `rivulet serve`, in one table: its config-file key, command-line flag,
 * environment variable, default and help. The CLI, the environment reader, the config-file
 * reader and the README's table are all derived from it.
 */

export type OptionType = 'string' | 'integer' | 'boolean' | 'list';

export interface OptionSpec {
  key: string;
  flag: string;
  env: string;
  type: OptionType;
  default: string | number | boolean | string[] | undefined;
  help: string;
  /** allowed values */
  choices?: readonly string[];
  /** integers: inclusive bounds */
  min?: number;
  max?: number;
  /** never printed or logged */
  secret?: boolean;
}

const MiB = 1024 * 1024;

export const OPTIONS = [
  { key: 'host', flag: '--host', env: 'RIVULET_HOST', type: 'string', default: '127.0.0.1', help: 'address to listen on' },
  { key: 'port', flag: '--port', env: 'RIVULET_PORT', type: 'integer', default: 8080, min: 0, max: 65535, help: 'port to listen on (0 picks a free one)' },
  { key: 'dataDir', flag: '--data-dir', env: 'RIVULET_DATA_DIR', type: 'string', default: './data', help: 'directory of the embedded store and the generated admin key' },
  { key: 'store', flag: '--store', env: 'RIVULET_STORE', type: 'string', default: 'sqlite', help: 'where events live: sqlite (embedded, in --data-dir) or nats://host:4222[,host2:4222]' },
  { key: 'durability', flag: '--durability', env: 'RIVULET_DURABILITY', type: 'string', default: 'strict', choices: ['strict', 'relaxed'], help: 'strict: fsync every commit before acknowledging; relaxed: faster, a machine crash may lose the last acknowledged writes' },
  { key: 'adminKey', flag: '--admin-key', env: 'RIVULET_ADMIN_KEY', type: 'string', default: undefined, secret: true, help: 'the admin key; when unset, one is generated on first start and written to <data-dir>/admin.key' },
  { key: 'logLevel', flag: '--log-level', env: 'RIVULET_LOG_LEVEL', type: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'bodyLimit', flag: '--body-limit', env: 'RIVULET_BODY_LIMIT', type: 'integer', default: 5 * MiB, min: 1024, max: 512 * MiB, help: 'largest request body in bytes (413 beyond)' },
  { key: 'maxBatchEvents', flag: '--max-batch-events', env: 'RIVULET_MAX_BATCH_EVENTS', type: 'integer', default: 10_000, min: 1, max: 1_000_000, help: 'most events in one produce request (413 beyond)' },
  { key: 'maxJsonDepth', flag: '--max-json-depth', env: 'RIVULET_MAX_JSON_DEPTH', type: 'integer', default: 64, min: 2, max: 1000, help: 'deepest JSON nesting accepted in a body (400 beyond)' },
  { key: 'maxReadLimit', flag: '--max-read-limit', env: 'RIVULET_MAX_READ_LIMIT', type: 'integer', default: 10_000, min: 1, max: 1_000_000, help: 'most events one read request may ask for' },
  { key: 'idempotencyWindow', flag: '--idempotency-window', env: 'RIVULET_IDEMPOTENCY_WINDOW', type: 'integer', default: 86_400, min: 1, help: 'seconds an Idempotency-Key is remembered' },
  { key: 'retentionInterval', flag: '--retention-interval', env: 'RIVULET_RETENTION_INTERVAL', type: 'integer', default: 60, min: 1, help: 'seconds between retention sweeps' },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout', env: 'RIVULET_SHUTDOWN_TIMEOUT', type: 'integer', default: 30, min: 1, help: 'seconds to finish in-flight work on SIGTERM before closing anyway' },
  { key: 'trustProxy', flag: '--trust-proxy', env: 'RIVULET_TRUST_PROXY', type: 'boolean', default: false, help: 'trust X-Forwarded-* headers from a reverse proxy' },
  { key: 'liveHeartbeat', flag: '--live-heartbeat', env: 'RIVULET_LIVE_HEARTBEAT', type: 'integer', default: 15, min: 1, max: 3600, help: 'seconds between heartbeats of live subscriptions (SSE comments, WebSocket pings); a WebSocket that misses one pong is closed' },
  { key: 'liveBufferBytes', flag: '--live-buffer-bytes', env: 'RIVULET_LIVE_BUFFER_BYTES', type: 'integer', default: MiB, min: 1024, max: 256 * MiB, help: 'bytes that may wait unsent to one live subscriber before it is cut off as a slow consumer' },
  { key: 'liveTokenTtl', flag: '--live-token-ttl', env: 'RIVULET_LIVE_TOKEN_TTL', type: 'integer', default: 300, min: 1, max: 86_400, help: 'seconds a live token (browser auth for live subscriptions) stays valid' },
  { key: 'livePollInterval', flag: '--live-poll-interval', env: 'RIVULET_LIVE_POLL_INTERVAL', type: 'integer', default: 500, min: 10, max: 60_000, help: 'milliseconds between polls of followed streams where the store cannot notify across processes' },
  { key: 'ifluxStream', flag: '--iflux-stream', env: 'RIVULET_IFLUX_STREAM', type: 'string', default: 'iflux', help: 'stream that events posted to the iFLUX API (POST /events) are written to; created on first use' },
  { key: 'ifluxAnonymous', flag: '--iflux-anonymous', env: 'RIVULET_IFLUX_ANONYMOUS', type: 'boolean', default: false, help: 'accept iFLUX events (POST /events) without a key' },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTIONS)[number]['key'];
