// Lint rules that guard the architecture as well as the code: the floors (kernel < mapping <
// core < http < dialects < runtime, with store beside core on the kernel) import nothing above
// them, and each dialect is a room: no store, no other dialect. test/unit/layer-rules.unit.test.ts
// proves each rule fires. See docs/architecture.md.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const driverImports = [
  'fastify',
  'fastify-*',
  '@fastify/*',
  'better-sqlite3',
  '@nats-io/*',
  'undici',
  'pino',
  '@aws-sdk/*',
  '@opensearch-project/*',
  'ws',
  'prom-client',
  'commander',
];

const dialects = readdirSync(new URL('./src/dialects/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** one no-restricted-imports rule from groups of patterns, each with its message */
function layer(...groups) {
  return { 'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }] };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/console/app/**', 'src/console/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/(^|\\/)(utils|helpers)(\\.js)?$/]',
          message: 'Name modules after what they do; no catch-all utils/helpers.',
        },
      ],
    },
  },
  {
    files: ['src/kernel/**/*.ts'],
    rules: layer(
      [['../*', '../**'], 'kernel is the floor: it imports nothing of ours outside itself.'],
      [driverImports, 'kernel must not import drivers or frameworks.'],
    ),
  },
  {
    files: ['src/mapping/**/*.ts'],
    rules: layer([
      [
        '**/core/**',
        '**/store/**',
        '**/http/**',
        '**/dialects/**',
        '**/delivery/**',
        '**/runtime/**',
        '**/cli/**',
        '**/config/**',
        '**/observability/**',
      ],
      'mapping sits on the kernel alone: core and delivery use it, it uses neither.',
    ]),
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      ...layer(
        [
          ['**/dialects/**'],
          'core imports no dialect: a dialect registers what it adds (a follow check, a sample shape) with the services.',
        ],
        [
          [
            '**/http/**',
            '**/store/sqlite/**',
            '**/store/nats/**',
            '**/delivery/**',
            '**/runtime/**',
            '**/cli/**',
            '**/config/**',
          ],
          'core is pure domain: it must not import the edges.',
        ],
        [driverImports, 'core must not import drivers or frameworks.'],
      ),
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'core never reads the environment; configuration is passed in.',
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: layer(
      [
        ['**/core/**', '**/mapping/**', '**/delivery/**', '**/runtime/**'],
        'store imports no core: what both need lives in src/kernel/.',
      ],
      [['**/http/**', '**/dialects/**', 'fastify', '@fastify/*'], 'stores know nothing of HTTP.'],
    ),
  },
  {
    files: ['src/http/**/*.ts'],
    rules: layer(
      [['**/dialects/**'], 'http imports no dialect: the runtime composes them and hands buildApp a Dialect[].'],
      [
        ['**/store/sqlite/**', '**/store/nats/**', '**/runtime/**', '**/cli/**'],
        'http takes its store and services from the runtime.',
      ],
    ),
  },
  ...dialects.map((name) => ({
    files: [`src/dialects/${name}/**/*.ts`],
    rules: layer(
      [
        ['**/store/**'],
        'a dialect imports no store: it is handed the narrow parts it uses (types through src/core/ports.ts).',
      ],
      [
        dialects.filter((other) => other !== name).flatMap((other) => [`**/dialects/${other}/**`, `../${other}/**`]),
        'a dialect imports no other dialect: what two share belongs in core or http.',
      ],
      [['**/runtime/**', '**/cli/**'], 'a dialect is composed by the runtime, never the reverse.'],
    ),
  })),
);
