/**
 * System programs the test tiers need. When a program is missing and we run as root on Debian/Ubuntu, the
 * package is installed with apt-get; otherwise the tier fails with a message naming the packages.
 * Nothing is skipped silently (CONTRACT.md, Commands).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Requirement {
  what: string;
  check: () => boolean;
  packages: string[];
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export const REQUIREMENTS: Requirement[] = [
  { what: 'chromium', check: () => existsSync('/usr/bin/chromium'), packages: ['chromium', 'fonts-noto-cjk'] },
  { what: 'ffmpeg', check: () => has('ffmpeg') && has('ffprobe'), packages: ['ffmpeg'] },
  {
    what: 'gstreamer rtsp server',
    check: () =>
      existsSync('/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib') ||
      existsSync('/usr/lib/aarch64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib'),
    packages: [
      'gir1.2-gst-rtsp-server-1.0',
      'python3-gi',
      'gstreamer1.0-tools',
      'gstreamer1.0-plugins-base',
      'gstreamer1.0-plugins-good',
      'gstreamer1.0-plugins-bad',
      'gstreamer1.0-plugins-ugly',
      'gstreamer1.0-libav',
    ],
  },
  {
    what: 'postgresql',
    check: () => existsSync('/usr/lib/postgresql/15/bin/initdb') || has('initdb'),
    packages: ['postgresql'],
  },
  {
    what: 'postgis',
    check: () => existsSync('/usr/share/postgresql/15/extension/postgis.control'),
    packages: ['postgresql-15-postgis-3'],
  },
  {
    what: 'mosquitto',
    check: () => existsSync('/usr/sbin/mosquitto') || has('mosquitto'),
    packages: ['mosquitto', 'mosquitto-clients'],
  },
];

export function ensureSystemPackages(log: (m: string) => void = console.log): void {
  const missing = REQUIREMENTS.filter((r) => !r.check());
  if (!missing.length) return;
  const pkgs = [...new Set(missing.flatMap((r) => r.packages))];
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version') && has('apt-get');
  if (!isRoot || !isDebian)
    throw new Error(
      `missing system programs: ${missing.map((m) => m.what).join(', ')}. Install: apt-get install -y ${pkgs.join(' ')}` +
        (isRoot ? '' : ' (as root)'),
    );
  log(`installing system packages: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  const still = REQUIREMENTS.filter((r) => !r.check());
  if (still.length) throw new Error(`still missing after apt-get: ${still.map((m) => m.what).join(', ')}`);
}
