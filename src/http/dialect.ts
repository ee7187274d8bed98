/**
 * A dialect as the app takes it: an HTTP surface speaking one seed system's API. The runtime
 * builds each from its folder under src/dialects/ and hands them to `buildApp`, so the HTTP
 * layer registers dialects without knowing any of them.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiMount } from './unrouted.js';

export interface Dialect {
  readonly name: string;
  /** the paths it answers under: a path there that no route takes is answered in its format */
  readonly mounts: readonly ApiMount[];
  /** registers its routes; called after the native API's, in the order the dialects are given */
  register(app: FastifyInstance): Promise<void>;
}
