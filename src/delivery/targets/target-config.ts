/**
 * Reading a sink's `target` configuration field by field, so every target refuses bad input
 * alike: VALIDATION_FAILED with a JSON pointer under `/target` naming the field, and unknown
 * fields refused (a misspelt `gzip` must not silently mean "no gzip").
 */
import { RivuletError } from '../../kernel/errors.js';
import { redactedUrl } from '../../kernel/secret-urls.js';
import type { UrlGuard } from '../url-guard.js';
import type { TargetKind } from './target.js';

/** Shown instead of a secret by `redact`. */

export function invalidTarget(message: string, pointer: string): RivuletError {
  return new RivuletError('VALIDATION_FAILED', message, { details: { pointer } });
}

export function pointerOf(path: readonly string[]): string {
  return ['', 'target', ...path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1'))].join('/');
}

/** A view of one object of the configuration that knows where it sits. */
export class ConfigReader {
  constructor(
    private readonly value: Record<string, unknown>,
    private readonly path: readonly string[],
  ) {}

  /** The target configuration itself: an object whose `kind`, when given, names this target. */
  static root(config: unknown, kind: TargetKind): ConfigReader {
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw invalidTarget(`the ${kind} target configuration must be an object`, pointerOf([]));
    const reader = new ConfigReader(config as Record<string, unknown>, []);
    const given = reader.value['kind'];
    if (given !== undefined && given !== kind)
      throw invalidTarget(`kind must be "${kind}" here; got ${JSON.stringify(given)}`, pointerOf(['kind']));
    return reader;
  }

  fail(field: string, message: string): RivuletError {
    return invalidTarget(`${[...this.path, field].join('.')} ${message}`, pointerOf([...this.path, field]));
  }

  has(field: string): boolean {
    return this.value[field] !== undefined;
  }

  raw(field: string): unknown {
    return this.value[field];
  }

  /** Refuses fields this target does not know. */
  only(fields: readonly string[]): void {
    for (const field of Object.keys(this.value)) {
      if (!fields.includes(field))
        throw this.fail(field, `is not a setting of this target; known: ${fields.join(', ')}`);
    }
  }

  object(field: string): ConfigReader | undefined {
    const v = this.value[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(field, 'must be an object');
    return new ConfigReader(v as Record<string, unknown>, [...this.path, field]);
  }

  string(field: string, options: { required: true; pattern?: RegExp; rule?: string; max?: number }): string;
  string(
    field: string,
    options?: { required?: false; pattern?: RegExp; rule?: string; max?: number },
  ): string | undefined;
  string(
    field: string,
    options: { required?: boolean; pattern?: RegExp; rule?: string; max?: number } = {},
  ): string | undefined {
    const v = this.value[field];
    if (v === undefined) {
      if (options.required === true) throw this.fail(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v === '') throw this.fail(field, 'must be a non-empty string');
    if (options.max !== undefined && v.length > options.max)
      throw this.fail(field, `must be at most ${options.max} characters`);
    if (options.pattern !== undefined && !options.pattern.test(v))
      throw this.fail(field, options.rule ?? `must match ${String(options.pattern)}`);
    return v;
  }

  boolean(field: string, fallback: boolean): boolean {
    const v = this.value[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw this.fail(field, 'must be true or false');
    return v;
  }

  integer(field: string, fallback: number, min: number, max: number): number {
    const v = this.value[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw this.fail(field, `must be a whole number from ${min} to ${max}`);
    return v;
  }

  oneOf<T extends string>(field: string, choices: readonly T[], fallback: T): T {
    const v = this.value[field];
    if (v === undefined) return fallback;
    const found = choices.find((c) => c === v);
    if (found === undefined)
      throw this.fail(
        field,
        `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}; got ${JSON.stringify(v)}`,
      );
    return found;
  }
}

/**
 * An http(s) URL without credentials in it (they would be logged and answered with the
 * configuration; each target has its own field for them). The URL guard checks the host
 * when the target is first used, since that needs DNS.
 */
export function checkServiceUrl(value: unknown, at: readonly string[]): string {
  const where = (message: string): RivuletError => invalidTarget(`${at.join('.')} ${message}`, pointerOf(at));
  if (typeof value !== 'string' || value === '') throw where('must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw where(`is not a valid URL: ${JSON.stringify(redactedUrl(value))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw where('must use http or https');
  if (url.username !== '' || url.password !== '')
    throw where("must not carry credentials; give them in the target's own credentials field");
  return value;
}

/**
 * For a factory's `verify`: refuses (TARGET_URL_FORBIDDEN, pointing at the field) a URL the
 * guard forbids when the sink is saved. A name that does not resolve now may resolve later,
 * so DNS failures pass here; the checks at first use and at connect time still apply.
 */
export async function verifyServiceUrl(guard: UrlGuard, url: string, at: readonly string[]): Promise<void> {
  try {
    await guard.check(url);
  } catch (err) {
    if (err instanceof RivuletError && err.code === 'TARGET_URL_FORBIDDEN') {
      throw new RivuletError('TARGET_URL_FORBIDDEN', err.message, {
        details: { ...err.details, pointer: pointerOf(at) },
      });
    }
  }
}

/** Whether an error (or one of its causes) says the URL guard refused the address. */
export function guardRefusal(err: unknown): RivuletError | undefined {
  for (
    let e = err, depth = 0;
    e !== null && typeof e === 'object' && depth < 6;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (e instanceof RivuletError) return e;
  }
  return undefined;
}
