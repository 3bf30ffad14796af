/**
 * `npm run bench -- NAME` runs one benchmark (`npm run bench` runs all) and writes
 * bench/results/NAME.json: { name, machine, metrics, ratios }, plus a readable table on stdout.
 * Each benchmark module exports `run(): Promise<{ name, metrics, ratios }>` and measures its own baseline
 * in the same run, so ratios are comparable across machines.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BenchResult {
  name: string;
  metrics: Record<string, number | string | null>;
  ratios: Record<string, number | null>;
  notes?: string[];
}

const ALL = ['join', 'ingest', 'outage', 'latency', 'wall', 'video', 'field'];
const here = path.dirname(new URL(import.meta.url).pathname);

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    at: new Date().toISOString(),
  };
}

function table(r: BenchResult): string {
  const rows: [string, string][] = [
    ...Object.entries(r.metrics).map(([k, v]) => [k, typeof v === 'number' ? fmt(v) : String(v)] as [string, string]),
    ...Object.entries(r.ratios).map(([k, v]) => [`ratio: ${k}`, v === null ? '—' : `${fmt(v)}×`] as [string, string]),
  ];
  const w = Math.max(...rows.map((x) => x[0].length), 6);
  return [
    `\n== ${r.name} ==`,
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
    ...(r.notes ?? []).map((n) => `note: ${n}`),
  ].join('\n');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(4)).toString();
}

async function main() {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const todo = names.length ? names : ALL;
  const outDir = path.join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const name of todo) {
    const file = path.join(here, `${name}.ts`);
    if (!existsSync(file)) {
      console.error(`unknown benchmark "${name}" (have: ${ALL.join(', ')})`);
      failed++;
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(file).href)) as { run: () => Promise<BenchResult> };
      const r = await mod.run();
      writeFileSync(
        path.join(outDir, `${name}.json`),
        JSON.stringify({ ...r, name, machine: machine() }, null, 2) + '\n',
      );
      console.log(table(r));
    } catch (e) {
      failed++;
      console.error(`benchmark ${name} failed:`, e);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
