/** Debian's Chromium through playwright-core, with the flags that let WebGL (maplibre, deck.gl) start. */
import { chromium, type Browser } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/** Where screenshots and other artifacts go (kept after the run). */
export function artifactPath(name: string): string {
  const dir = path.resolve(import.meta.dirname, '../../artifacts');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
