import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default ts.config(
  {
    ignores: [
      'build/',
      '.svelte-kit/',
      'node_modules/',
      'data/',
      'bench/results/',
      'scratch/',
      'geo-data/sample/',
      'test-results/',
      'artifacts/',
    ],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
    rules: { 'svelte/no-navigation-without-resolve': 'off' },
  },
  {
    // core/ does no I/O: no environment, clock, sockets or files (STYLE.md).
    files: ['core/**/*.ts'],
    ignores: ['core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'fs', 'net', 'http', 'child_process', 'pg', '@electric-sql/*', 'mqtt', 'aedes'] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'core/ reads no environment: pass configuration in.' },
        { object: 'Date', property: 'now', message: 'core/ reads no clock: pass `now` in.' },
        { object: 'Math', property: 'random', message: 'core/ uses no ambient randomness: pass a PRNG in.' },
      ],
    },
  },
);
