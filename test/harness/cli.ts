/**
 * The `onegrid` CLI two ways: `spawnCli` runs `node bin/onegrid.js` as a user would (a new process: node,
 * tsx, module loading — seconds on a loaded 2-core machine), `runCli` calls the same `main(argv)` that
 * bin/onegrid.js calls, in this process, with the given environment and its output captured. Tests prove
 * the command's behaviour with `runCli` and keep a `spawnCli` or two to prove the real entry point.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../ingest/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: Record<string, string>): CliResult {
  const r = spawnSync(process.execPath, ['bin/onegrid.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** `main(args)` in process with `env` over process.env (restored after); stdout and stderr captured. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.env = saved;
  }
  return { status, stdout: out.join(''), stderr: err.join('') };
}
