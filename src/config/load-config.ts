/**
 * Resolves the configuration once, at start-up: flags > environment (RIVULET_*) > config
 * file (YAML or JSON) > defaults. Every value is checked here, with errors that name where
 * the bad value came from.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { OPTIONS, type OptionSpec } from './options.js';
import { parseCorsOrigins } from './cors-origins.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  store: string;
  durability: 'strict' | 'relaxed';
  natsCreds: string | undefined;
  natsTlsCa: string | undefined;
  natsReplicas: number;
  natsNamespace: string;
  adminKey: string | undefined;
  logLevel: string;
  logFormat: 'auto' | 'pretty' | 'json';
  bodyLimit: number;
  maxBatchEvents: number;
  maxJsonDepth: number;
  maxReadLimit: number;
  idempotencyWindow: number;
  retentionInterval: number;
  shutdownTimeout: number;
  corsOrigin: string[] | undefined;
  trustProxy: boolean;
  liveHeartbeat: number;
  liveBufferBytes: number;
  liveTokenTtl: number;
  livePollInterval: number;
  ifluxStream: string;
  ifluxAnonymous: boolean;
  durableStreamsAnonymous: boolean;
  durableStreamsPageCacheBytes: number;
  sqliteReadCacheBytes: number;
  sqliteWriteCacheBytes: number;
  sinkAllowLoopback: boolean;
  sinkAllowPrivate: boolean;
  sinkOwnerLease: number;
  okdataS3Bucket: string | undefined;
  okdataS3Region: string;
  okdataS3Endpoint: string | undefined;
  okdataS3ForcePathStyle: boolean;
  okdataS3AccessKeyId: string | undefined;
  okdataS3SecretAccessKey: string | undefined;
  okdataS3BufferSeconds: number;
  okdataOpensearchNode: string[] | undefined;
  okdataOpensearchUsername: string | undefined;
  okdataOpensearchPassword: string | undefined;
  okdataOpensearchApiKey: string | undefined;
  metricsPublic: boolean;
  maxInflightProduce: number;
  maxEventLoopDelay: number;
  produceLane: 'on' | 'off';
  rateLimit: number;
  rateLimitBurst: number;
  headersTimeout: number;
  requestTimeout: number;
  specsDir: string | undefined;
  specPlanLimit: number;
  aetherJobsDir: string | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** values from command-line flags, by option key (commander's camelCase names) */
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** path of a YAML or JSON file; RIVULET_CONFIG in env names one too */
  file?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const filePath = sources.file ?? env.RIVULET_CONFIG;
  const file = filePath ? readConfigFile(filePath) : {};
  const known = new Set<string>(OPTIONS.map((o) => o.key));
  for (const key of Object.keys(file)) {
    if (!known.has(key))
      throw new ConfigError(`${filePath}: unknown setting "${key}" (known: ${[...known].join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS as readonly OptionSpec[]) {
    const flag = sources.flags?.[spec.key];
    if (flag !== undefined) out[spec.key] = coerce(spec, flag, `${spec.flag}`);
    else if (env[spec.env] !== undefined && env[spec.env] !== '')
      out[spec.key] = coerce(spec, env[spec.env], `$${spec.env}`);
    else if (file[spec.key] !== undefined) out[spec.key] = coerce(spec, file[spec.key], `${filePath}: ${spec.key}`);
    else out[spec.key] = spec.default;
  }
  const config = out as unknown as Config;
  if (config.store !== 'sqlite' && !/^nats(\+tls)?:\/\//.test(config.store)) {
    throw new ConfigError(`store must be "sqlite" or a nats:// URL, not "${config.store}"`);
  }
  if (config.corsOrigin) {
    try {
      config.corsOrigin = parseCorsOrigins(config.corsOrigin.join(','));
    } catch (err) {
      throw new ConfigError(`cors origin: ${(err as Error).message}`);
    }
  }
  return config;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`config file ${path} must hold a mapping of settings`);
  return parsed as Record<string, unknown>;
}

function coerce(spec: OptionSpec, raw: unknown, where: string): unknown {
  switch (spec.type) {
    case 'integer': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw.trim())
            : NaN;
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${where}: "${String(raw)}" is not a whole number`);
      if (spec.min !== undefined && n < spec.min)
        throw new ConfigError(`${where}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw new ConfigError(`${where}: ${n} is above the maximum ${spec.max}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      throw new ConfigError(`${where}: "${String(raw)}" is not true or false`);
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(`${where}: expected text`);
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s))
        throw new ConfigError(`${where}: "${s}" is not one of ${spec.choices.join(', ')}`);
      return s;
    }
  }
}
