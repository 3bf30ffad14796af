import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['ingest/open311/**/*.test.ts'], environment: 'node', root: '/work/main' } });
