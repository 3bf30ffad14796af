#!/usr/bin/env node
/**
 * Every system program, GStreamer element, Python module, font and file that a test tier needs, in one place,
 * each with the Debian package that brings it (CONTRACT.md, Commands: "Tiers that need system programs install
 * them with apt-get when run as root on Debian/Ubuntu; otherwise they fail with a message naming the
 * packages. Nothing is skipped silently").
 *
 * Plain JavaScript with no dependencies, so that `.ci/run` can run it before `npm ci`:
 *   node scripts/system-requirements.js            check; install what is missing when root on Debian/Ubuntu
 *   node scripts/system-requirements.js --check    check only; exit 1 naming the missing packages
 *   node scripts/system-requirements.js --list     print every requirement and whether it is met
 * `npm test` (scripts/test.js) and vitest's global setup call `ensureSystemPackages()` from here.
 *
 * Packages are installed with `--no-install-recommends`, so a need that only a recommended package meets
 * (GStreamer's clockoverlay is in gstreamer1.0-x, which nothing depends on) must be listed here by itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {'program' | 'gst-element' | 'gi-typelib' | 'python-module' | 'font' | 'file'} Kind
 * @typedef {{ tier: string, kind: Kind, name: string, package: string, why: string }} Requirement
 */

/** @type {Requirement[]} */
export const REQUIREMENTS = [
  // Browser tier: Playwright drives Debian's Chromium; the wall draws Chinese labels with Noto CJK.
  { tier: 'browser', kind: 'program', name: 'chromium', package: 'chromium', why: 'Playwright browser' },
  { tier: 'browser', kind: 'program', name: 'fc-list', package: 'fontconfig', why: 'font checks' },
  { tier: 'browser', kind: 'font', name: 'Noto Sans CJK SC', package: 'fonts-noto-cjk', why: 'Chinese labels' },
  // Video tier: the relay runs ffmpeg against a GStreamer RTSP server (test/harness/rtsp-server.py).
  { tier: 'video', kind: 'program', name: 'ffmpeg', package: 'ffmpeg', why: 'video relay, test clips' },
  { tier: 'video', kind: 'program', name: 'ffprobe', package: 'ffmpeg', why: 'stream probing' },
  { tier: 'video', kind: 'program', name: 'gst-inspect-1.0', package: 'gstreamer1.0-tools', why: 'element checks' },
  { tier: 'video', kind: 'python-module', name: 'gi', package: 'python3-gi', why: 'rtsp-server.py' },
  {
    tier: 'video',
    kind: 'gi-typelib',
    name: 'GstRtspServer-1.0',
    package: 'gir1.2-gst-rtsp-server-1.0',
    why: 'rtsp-server.py',
  },
  {
    tier: 'video',
    kind: 'gst-element',
    name: 'videotestsrc',
    package: 'gstreamer1.0-plugins-base',
    why: 'live test pattern',
  },
  { tier: 'video', kind: 'gst-element', name: 'clockoverlay', package: 'gstreamer1.0-x', why: 'moving live picture' },
  { tier: 'video', kind: 'gst-element', name: 'x264enc', package: 'gstreamer1.0-plugins-ugly', why: 'H.264 mounts' },
  { tier: 'video', kind: 'gst-element', name: 'rtph264pay', package: 'gstreamer1.0-plugins-good', why: 'H.264 mounts' },
  { tier: 'video', kind: 'gst-element', name: 'jpegenc', package: 'gstreamer1.0-plugins-good', why: 'MJPEG mount' },
  { tier: 'video', kind: 'gst-element', name: 'rtpjpegpay', package: 'gstreamer1.0-plugins-good', why: 'MJPEG mount' },
  { tier: 'video', kind: 'gst-element', name: 'qtdemux', package: 'gstreamer1.0-plugins-good', why: 'file mounts' },
  { tier: 'video', kind: 'gst-element', name: 'h264parse', package: 'gstreamer1.0-plugins-bad', why: 'file mounts' },
  { tier: 'video', kind: 'gst-element', name: 'avdec_h264', package: 'gstreamer1.0-libav', why: 'decoding checks' },
  // PostgreSQL tier: a throwaway PostgreSQL 15 cluster with PostGIS (test/harness/postgres.ts).
  {
    tier: 'postgres',
    kind: 'file',
    name: '/usr/lib/postgresql/15/bin/initdb',
    package: 'postgresql-15',
    why: 'test cluster',
  },
  { tier: 'postgres', kind: 'program', name: 'psql', package: 'postgresql-client-15', why: 'test cluster setup' },
  {
    tier: 'postgres',
    kind: 'file',
    name: '/usr/share/postgresql/15/extension/postgis.control',
    package: 'postgresql-15-postgis-3',
    why: 'PostGIS join reference',
  },
  // External-broker tier: a real Mosquitto (test/ingest/mosquitto.ts) and its clients.
  { tier: 'mqtt', kind: 'file', name: '/usr/sbin/mosquitto', package: 'mosquitto', why: 'external broker tests' },
  { tier: 'mqtt', kind: 'program', name: 'mosquitto_pub', package: 'mosquitto-clients', why: 'field-case replays' },
];

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const quiet = { stdio: 'ignore', timeout: 20_000 };
const ok = (cmd, args) => spawnSync(cmd, args, quiet).status === 0;
const onPath = (name) => ok('sh', ['-c', `command -v "$1"`, 'sh', name]);

/** Whether one requirement is met on this machine. */
export function isMet(r) {
  switch (r.kind) {
    case 'program':
      return onPath(r.name);
    case 'file':
      return existsSync(r.name);
    case 'gst-element':
      return onPath('gst-inspect-1.0') && ok('gst-inspect-1.0', ['--exists', r.name]);
    case 'python-module':
      return ok(PYTHON, ['-c', `import ${r.name}`]);
    case 'gi-typelib': {
      const [ns, ver] = r.name.split('-');
      return ok(PYTHON, ['-c', `import gi; gi.require_version("${ns}", "${ver}"); from gi.repository import ${ns}`]);
    }
    case 'font': {
      if (!onPath('fc-list')) return false;
      const out = spawnSync('fc-list', [':', 'family'], { encoding: 'utf8', timeout: 20_000 }).stdout ?? '';
      return out.includes(r.name);
    }
    default:
      throw new Error(`unknown requirement kind ${r.kind}`);
  }
}

/** The requirements not met, with the packages that bring them. */
export function missingRequirements(list = REQUIREMENTS) {
  const missing = list.filter((r) => !isMet(r));
  return { missing, packages: [...new Set(missing.map((r) => r.package))] };
}

const describe = (rs) => rs.map((r) => `${r.tier}: ${r.kind} ${r.name} (${r.package})`).join('; ');

/**
 * Check every requirement; install the missing packages with apt-get when root on Debian/Ubuntu, else throw
 * naming them. Throws too when something is still missing after the install.
 */
export function ensureSystemPackages(log = console.log, opts = { install: true }) {
  const { missing, packages } = missingRequirements();
  if (!missing.length) return;
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version') && onPath('apt-get');
  if (!opts.install || !isRoot || !isDebian)
    throw new Error(
      `missing system requirements: ${describe(missing)}. Install: apt-get install -y --no-install-recommends ${packages.join(' ')}` +
        (isRoot || !isDebian ? '' : ' (as root)'),
    );
  log(`installing system packages for: ${describe(missing)}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], { stdio: 'inherit', env });
  execFileSync(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
    { stdio: 'inherit', env },
  );
  const still = missingRequirements(missing).missing;
  if (still.length) throw new Error(`still missing after apt-get install: ${describe(still)}`);
  log(`installed: ${packages.join(' ')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = process.argv[2];
  if (arg === '--list') {
    for (const r of REQUIREMENTS)
      console.log(`${isMet(r) ? 'ok     ' : 'MISSING'} ${r.tier}\t${r.kind}\t${r.name}\t${r.package}\t${r.why}`);
  } else {
    try {
      ensureSystemPackages((m) => console.log(`[system] ${m}`), { install: arg !== '--check' });
      console.log(`[system] all ${REQUIREMENTS.length} system requirements met`);
    } catch (e) {
      console.error(`[system] ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    }
  }
}
