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
  { key: 'natsCreds', flag: '--nats-creds', env: 'RIVULET_NATS_CREDS', type: 'string', default: undefined, help: 'nats store: a NATS .creds file (user JWT and NKey seed) to connect with' },
  { key: 'natsTlsCa', flag: '--nats-tls-ca', env: 'RIVULET_NATS_TLS_CA', type: 'string', default: undefined, help: 'nats store: PEM file of the CAs that signed the servers\' certificates; turns TLS on' },
  { key: 'natsReplicas', flag: '--nats-replicas', env: 'RIVULET_NATS_REPLICAS', type: 'integer', default: 1, min: 1, max: 5, help: 'nats store: copies of every JetStream stream and KV bucket Rivulet creates (3 in a 3-node cluster)' },
  { key: 'natsNamespace', flag: '--nats-namespace', env: 'RIVULET_NATS_NAMESPACE', type: 'string', default: 'rivulet', help: 'nats store: prefix of every stream, subject and KV bucket; deployments sharing a cluster use different ones' },
  { key: 'durability', flag: '--durability', env: 'RIVULET_DURABILITY', type: 'string', default: 'strict', choices: ['strict', 'relaxed'], help: 'strict: fsync every commit before acknowledging; relaxed: faster, a machine crash may lose the last acknowledged writes' },
  { key: 'adminKey', flag: '--admin-key', env: 'RIVULET_ADMIN_KEY', type: 'string', default: undefined, secret: true, help: 'the admin key; when unset, one is generated on first start and written to <data-dir>/admin.key' },
  { key: 'logLevel', flag: '--log-level', env: 'RIVULET_LOG_LEVEL', type: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'log level' },
  { key: 'logFormat', flag: '--log-format', env: 'RIVULET_LOG_FORMAT', type: 'string', default: 'auto', choices: ['auto', 'pretty', 'json'], help: 'pretty: one readable line per request; json: one JSON object per line (for log collectors); auto: pretty when stdout is a terminal, json otherwise' },
  { key: 'bodyLimit', flag: '--body-limit', env: 'RIVULET_BODY_LIMIT', type: 'integer', default: 5 * MiB, min: 1024, max: 512 * MiB, help: 'largest request body in bytes (413 beyond)' },
  { key: 'maxBatchEvents', flag: '--max-batch-events', env: 'RIVULET_MAX_BATCH_EVENTS', type: 'integer', default: 10_000, min: 1, max: 1_000_000, help: 'most events in one produce request (413 beyond)' },
  { key: 'maxJsonDepth', flag: '--max-json-depth', env: 'RIVULET_MAX_JSON_DEPTH', type: 'integer', default: 64, min: 2, max: 1000, help: 'deepest JSON nesting accepted in a body (400 beyond)' },
  { key: 'maxReadLimit', flag: '--max-read-limit', env: 'RIVULET_MAX_READ_LIMIT', type: 'integer', default: 10_000, min: 1, max: 1_000_000, help: 'most events one read request may ask for' },
  { key: 'idempotencyWindow', flag: '--idempotency-window', env: 'RIVULET_IDEMPOTENCY_WINDOW', type: 'integer', default: 86_400, min: 1, help: 'seconds an Idempotency-Key is remembered' },
  { key: 'retentionInterval', flag: '--retention-interval', env: 'RIVULET_RETENTION_INTERVAL', type: 'integer', default: 60, min: 1, help: 'seconds between retention sweeps' },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout', env: 'RIVULET_SHUTDOWN_TIMEOUT', type: 'integer', default: 30, min: 1, help: 'seconds to finish in-flight work on SIGTERM before closing anyway' },
  { key: 'corsOrigin', flag: '--cors-origin', env: 'RIVULET_CORS_ORIGIN', type: 'list', default: undefined, help: 'let web pages from these origins call the API (comma-separated, e.g. https://app.example.com; * for any); unset: no cross-origin access' },
  { key: 'trustProxy', flag: '--trust-proxy', env: 'RIVULET_TRUST_PROXY', type: 'boolean', default: false, help: 'trust X-Forwarded-* headers from a reverse proxy' },
  { key: 'liveHeartbeat', flag: '--live-heartbeat', env: 'RIVULET_LIVE_HEARTBEAT', type: 'integer', default: 15, min: 1, max: 3600, help: 'seconds between heartbeats of live subscriptions (SSE comments, WebSocket pings); a WebSocket that misses one pong is closed' },
  { key: 'liveBufferBytes', flag: '--live-buffer-bytes', env: 'RIVULET_LIVE_BUFFER_BYTES', type: 'integer', default: MiB, min: 1024, max: 256 * MiB, help: 'bytes that may wait unsent to one live subscriber before it is cut off as a slow consumer' },
  { key: 'liveTokenTtl', flag: '--live-token-ttl', env: 'RIVULET_LIVE_TOKEN_TTL', type: 'integer', default: 300, min: 1, max: 86_400, help: 'seconds a live token (browser auth for live subscriptions) stays valid' },
  { key: 'livePollInterval', flag: '--live-poll-interval', env: 'RIVULET_LIVE_POLL_INTERVAL', type: 'integer', default: 500, min: 10, max: 60_000, help: 'milliseconds between polls of followed streams where the store cannot notify across processes' },
  { key: 'ifluxStream', flag: '--iflux-stream', env: 'RIVULET_IFLUX_STREAM', type: 'string', default: 'iflux', help: 'stream that events posted to the iFLUX API (POST /events) are written to; created on first use' },
  { key: 'ifluxAnonymous', flag: '--iflux-anonymous', env: 'RIVULET_IFLUX_ANONYMOUS', type: 'boolean', default: false, help: 'accept iFLUX events (POST /events) without a key' },
  { key: 'durableStreamsAnonymous', flag: '--durable-streams-anonymous', env: 'RIVULET_DURABLE_STREAMS_ANONYMOUS', type: 'boolean', default: false, help: 'serve the Durable Streams mount (/ds) without a key, for public or proxied deployments' },
  { key: 'sinkAllowLoopback', flag: '--sink-allow-loopback', env: 'RIVULET_SINK_ALLOW_LOOPBACK', type: 'boolean', default: false, help: 'let sinks call loopback addresses (127.0.0.0/8, ::1, localhost)' },
  { key: 'sinkAllowPrivate', flag: '--sink-allow-private', env: 'RIVULET_SINK_ALLOW_PRIVATE', type: 'boolean', default: false, help: 'let sinks call private network addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)' },
  { key: 'sinkOwnerLease', flag: '--sink-owner-lease', env: 'RIVULET_SINK_OWNER_LEASE', type: 'integer', default: 15, min: 3, max: 3600, help: 'seconds a process holds a sink without renewing; another process takes the sink over after that' },
  // okdata sinks (docs/dialects/okdata.md): where `s3` and `elasticsearch` sinks enabled through the okdata API deliver
  { key: 'okdataS3Bucket', flag: '--okdata-s3-bucket', env: 'RIVULET_OKDATA_S3_BUCKET', type: 'string', default: undefined, help: 'okdata: bucket of s3 sinks (objects under processed/{confidentiality}/{dataset}/version={version}/); unset: the s3 sink type is not offered' },
  { key: 'okdataS3Region', flag: '--okdata-s3-region', env: 'RIVULET_OKDATA_S3_REGION', type: 'string', default: 'us-east-1', help: 'okdata: region of that bucket' },
  { key: 'okdataS3Endpoint', flag: '--okdata-s3-endpoint', env: 'RIVULET_OKDATA_S3_ENDPOINT', type: 'string', default: undefined, help: 'okdata: URL of an S3-compatible store (MinIO, Ceph, …); unset: AWS S3' },
  { key: 'okdataS3ForcePathStyle', flag: '--okdata-s3-force-path-style', env: 'RIVULET_OKDATA_S3_FORCE_PATH_STYLE', type: 'boolean', default: false, help: 'okdata: endpoint/bucket/key addressing (most S3-compatible stores need it)' },
  { key: 'okdataS3AccessKeyId', flag: '--okdata-s3-access-key-id', env: 'RIVULET_OKDATA_S3_ACCESS_KEY_ID', type: 'string', default: undefined, secret: true, help: 'okdata: access key id for the bucket (prefer the environment); unset: the server\'s own AWS identity' },
  { key: 'okdataS3SecretAccessKey', flag: '--okdata-s3-secret-access-key', env: 'RIVULET_OKDATA_S3_SECRET_ACCESS_KEY', type: 'string', default: undefined, secret: true, help: 'okdata: secret access key for the bucket (prefer the environment)' },
  { key: 'okdataS3BufferSeconds', flag: '--okdata-s3-buffer-seconds', env: 'RIVULET_OKDATA_S3_BUFFER_SECONDS', type: 'integer', default: 60, min: 0, max: 900, help: 'okdata: longest an event waits before its s3 object is written (objects hold up to 10000 events)' },
  { key: 'okdataOpensearchNode', flag: '--okdata-opensearch-node', env: 'RIVULET_OKDATA_OPENSEARCH_NODE', type: 'list', default: undefined, help: 'okdata: Elasticsearch/OpenSearch node URLs (comma-separated) of elasticsearch sinks; unset: the elasticsearch sink type is not offered' },
  { key: 'okdataOpensearchUsername', flag: '--okdata-opensearch-username', env: 'RIVULET_OKDATA_OPENSEARCH_USERNAME', type: 'string', default: undefined, help: 'okdata: Basic auth user for those nodes' },
  { key: 'okdataOpensearchPassword', flag: '--okdata-opensearch-password', env: 'RIVULET_OKDATA_OPENSEARCH_PASSWORD', type: 'string', default: undefined, secret: true, help: 'okdata: Basic auth password for those nodes (prefer the environment)' },
  { key: 'okdataOpensearchApiKey', flag: '--okdata-opensearch-api-key', env: 'RIVULET_OKDATA_OPENSEARCH_API_KEY', type: 'string', default: undefined, secret: true, help: 'okdata: API key for those nodes, sent as Authorization: ApiKey (instead of user and password)' },
  // observability and overload protection (docs/observability.md, docs/operations.md)
  { key: 'metricsPublic', flag: '--metrics-public', env: 'RIVULET_METRICS_PUBLIC', type: 'boolean', default: false, help: 'serve /metrics without a key (it needs the admin key otherwise)' },
  { key: 'maxInflightProduce', flag: '--max-inflight-produce', env: 'RIVULET_MAX_INFLIGHT_PRODUCE', type: 'integer', default: 1024, min: 0, max: 1_000_000, help: 'most produce requests in flight at once; beyond, 503 OVERLOADED with Retry-After (0: no bound)' },
  { key: 'maxEventLoopDelay', flag: '--max-event-loop-delay', env: 'RIVULET_MAX_EVENT_LOOP_DELAY', type: 'integer', default: 1000, min: 0, max: 60_000, help: 'milliseconds of p99 event-loop delay beyond which requests get 503 OVERLOADED with Retry-After (0: off)' },
  { key: 'produceLane', flag: '--produce-lane', env: 'RIVULET_PRODUCE_LANE', type: 'string', default: 'on', choices: ['on', 'off'], help: 'answer plain JSON produce requests from known keys outside the general HTTP pipeline (same checks and answers, less CPU per request); off sends every request through it' },
  { key: 'rateLimit', flag: '--rate-limit', env: 'RIVULET_RATE_LIMIT', type: 'integer', default: 0, min: 0, max: 1_000_000, help: 'requests per second each key may send; beyond, 429 RATE_LIMITED with Retry-After (0: off)' },
  { key: 'rateLimitBurst', flag: '--rate-limit-burst', env: 'RIVULET_RATE_LIMIT_BURST', type: 'integer', default: 0, min: 0, max: 1_000_000, help: 'requests a key may send at once after being idle (0: the same as --rate-limit)' },
  { key: 'headersTimeout', flag: '--headers-timeout', env: 'RIVULET_HEADERS_TIMEOUT', type: 'integer', default: 20, min: 1, max: 3600, help: 'seconds a client has to send a request\'s headers before its connection is closed' },
  { key: 'requestTimeout', flag: '--request-timeout', env: 'RIVULET_REQUEST_TIMEOUT', type: 'integer', default: 60, min: 1, max: 3600, help: 'seconds a client has to send a whole request, body included' },
  // specs (docs/specs.md)
  { key: 'specsDir', flag: '--specs-dir', env: 'RIVULET_SPECS_DIR', type: 'string', default: undefined, help: 'folder of spec files (*.yaml, *.yml, *.json) applied at start-up, as the admin; a file whose spec is already the latest revision is skipped' },
  { key: 'specPlanLimit', flag: '--spec-plan-limit', env: 'RIVULET_SPEC_PLAN_LIMIT', type: 'integer', default: 0, min: 0, max: 1_000_000, help: 'most datasets with specs per owner; uploads that would add one more are refused (0: no limit)' },
  // aether jobs (docs/dialects/aether.md)
  { key: 'aetherJobsDir', flag: '--aether-jobs-dir', env: 'RIVULET_AETHER_JOBS_DIR', type: 'string', default: undefined, help: 'folder of aether job files (*.json, *.yaml, *.yml; one job or a list each) loaded at start-up, as the admin; an existing job with the same id wins' },
] as const satisfies readonly OptionSpec[];

export type OptionKey = (typeof OPTIONS)[number]['key'];
