import { ensureSystemPackages } from './system.ts';

/** Vitest global setup: system programs present (installed when root on Debian), once per run. */
export default function setup(): void {
  ensureSystemPackages();
}
