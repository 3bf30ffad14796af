import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['core/cases/**/*.test.ts', 'core/rules/**/*.test.ts'], environment: 'node' } });
