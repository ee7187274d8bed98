// Lint rules that guard the architecture as well as the code: `core` stays pure domain.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const driverImports = [
  'fastify', 'fastify-*', '@fastify/*', 'better-sqlite3', '@nats-io/*', 'undici', 'pino',
  '@aws-sdk/*', '@opensearch-project/*', 'ws', 'prom-client', 'commander',
];

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
      'no-restricted-syntax': ['error', {
        selector: 'ImportDeclaration[source.value=/(^|\\/)(utils|helpers)(\\.js)?$/]',
        message: 'Name modules after what they do; no catch-all utils/helpers.',
      }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/http/**', '**/store/sqlite/**', '**/store/nats/**', '**/store/conformance/**', '**/dialects/**', '**/delivery/**', '**/cli/**', '**/config/**'], message: 'core is pure domain: it must not import the edges.' },
          { group: driverImports, message: 'core must not import drivers or frameworks.' },
        ],
      }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'core never reads the environment; configuration is passed in.' }],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/http/**', '**/dialects/**', 'fastify', '@fastify/*'], message: 'stores know nothing of HTTP.' }],
      }],
    },
  },
);
