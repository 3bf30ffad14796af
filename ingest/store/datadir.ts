/**
 * DATA_DIR holds the PGlite database, the lock file, rules.json and whatever else the platform writes: it
 * is created (or tightened) to 0700 and every file in it to 0600, and the process's umask becomes 077 so that
 * files written later (PGlite's own, the lock) are created owner-only too (README "Security").
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/** Create or tighten `dir` (recursively: directories 0700, files 0600); returns its absolute path. */
export function secureDataDir(dir: string): string {
  process.umask(0o077);
  const root = path.resolve(dir);
  mkdirSync(root, { recursive: true, mode: DATA_DIR_MODE });
  const walk = (p: string, depth: number): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return; // never follow links out of the directory
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== DATA_DIR_MODE) chmodSync(p, DATA_DIR_MODE);
      if (depth < 16) for (const name of readdirSync(p)) walk(path.join(p, name), depth + 1);
    } else if (st.isFile() && (st.mode & 0o777) !== DATA_FILE_MODE) chmodSync(p, DATA_FILE_MODE);
  };
  walk(root, 0);
  return root;
}
