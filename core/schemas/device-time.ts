/**
 * A device's clock is a claim, not a fact (issue 12 §1). Pure: the caller passes the receipt time and the
 * time zone; nothing here reads a clock.
 *
 * - `parseDeviceTime` reads what devices really send: ISO 8601 with an offset (`Z`, `+08:00`, `+0800`,
 *   `+08`), ISO 8601 local time without an offset (read in the device's or the platform's IANA time zone),
 *   a space instead of `T` (RFC 3339 §5.6 allows it), epoch milliseconds, and epoch seconds — told apart
 *   by magnitude: below 1e11 a number is seconds (1e11 ms is 1973-03-03, 1e11 s is the year 5138), so an
 *   epoch-seconds time is never stored in 1970.
 * - `judgeDeviceTime` flags a time that is implausible against its receipt: more than `futureS` ahead
 *   (`clock_skew`) or more than `lateS` behind (`late`).
 */

/** Numbers below this are epoch seconds, at or above it epoch milliseconds. */
export const EPOCH_SECONDS_BELOW = 1e11;
// 0001-01-01 … 9999-12-31: PostgreSQL timestamptz takes far more, JS Date less; keep to both.
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

const ISO_FULL =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export type DeviceTime = { ok: true; ms: number; local: boolean } | { ok: false; detail: string };

const inRange = (ms: number) => Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether `tz` is an IANA time zone this runtime knows (e.g. Asia/Shanghai, UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC at the instant `ms`, in ms (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(ms: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const x of formatter(tz).formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Epoch ms of a wall-clock time in `tz` (for a time in a DST gap or overlap: the earlier reading). */
export function wallTimeToMs(wallAsUtcMs: number, tz: string): number {
  let ms = wallAsUtcMs - zoneOffsetMs(wallAsUtcMs, tz);
  const again = wallAsUtcMs - zoneOffsetMs(ms, tz);
  if (again !== ms) ms = Math.min(ms, again);
  return ms;
}

/**
 * Epoch ms of a device's `ts`. `tz` is the IANA zone for local times without an offset (the device's,
 * else the platform's `TZ`); null refuses such times with a reason that says the offset is missing.
 */
export function parseDeviceTime(ts: string | number, tz: string | null): DeviceTime {
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return { ok: false, detail: 'not a finite number' };
    const ms = Math.abs(ts) < EPOCH_SECONDS_BELOW ? Math.round(ts * 1000) : Math.round(ts);
    return inRange(ms) ? { ok: true, ms, local: false } : { ok: false, detail: `${ts} is outside 0001–9999` };
  }
  const s = ts.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return parseDeviceTime(Number(s), tz);
  const m = ISO_FULL.exec(s);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(s))
      return { ok: false, detail: `"${s.slice(0, 40)}" is a date without a time of day` };
    return {
      ok: false,
      detail: `"${s.slice(0, 40)}" is not a time: send ISO 8601 (2026-11-29T12:15:00Z or 2026-11-29T20:15:00+08:00), epoch ms or epoch seconds`,
    };
  }
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const Y = +y,
    M = +mo,
    D = +d,
    H = +h,
    MI = +mi,
    S = sec === undefined ? 0 : +sec;
  const fracMs = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  if (M < 1 || M > 12 || D < 1 || D > 31 || H > 23 || MI > 59 || S > 60)
    return { ok: false, detail: `"${s.slice(0, 40)}" has a field out of range` };
  const wall = Date.UTC(Y, M - 1, D, H, MI, Math.min(S, 59), fracMs);
  const back = new Date(wall);
  if (back.getUTCDate() !== D || back.getUTCMonth() !== M - 1)
    return { ok: false, detail: `"${s.slice(0, 40)}" is not a calendar date` };
  let ms: number;
  let local = false;
  if (zone === undefined) {
    if (tz === null)
      return {
        ok: false,
        detail: `"${s.slice(0, 40)}" is ISO 8601 local time without a UTC offset, and no time zone is configured for this device`,
      };
    ms = wallTimeToMs(wall, tz);
    local = true;
  } else if (zone === 'Z' || zone === 'z') ms = wall;
  else {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0);
    if (offMin > 18 * 60) return { ok: false, detail: `"${s.slice(0, 40)}" has a UTC offset beyond ±18:00` };
    ms = wall - sign * offMin * 60_000;
  }
  return inRange(ms) ? { ok: true, ms, local } : { ok: false, detail: `"${s.slice(0, 40)}" is outside 0001–9999` };
}

/** How plausible a device time is against its receipt. */
export interface TimeWindow {
  /** Device time more than this ahead of receipt is `clock_skew`, s. */
  futureS: number;
  /** Device time more than this behind receipt is `late`, s. */
  lateS: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { futureS: 300, lateS: 600 };

export type TimeFlag = 'clock_skew' | 'late';

export function judgeDeviceTime(occurredAt: number, receivedAt: number, w: TimeWindow): TimeFlag | null {
  const d = occurredAt - receivedAt;
  if (d > w.futureS * 1000) return 'clock_skew';
  if (-d > w.lateS * 1000) return 'late';
  return null;
}

/**
 * The time rules reason with: the device's own time when plausible or merely late (a late event happened
 * then), the receipt time when the device's clock runs ahead (its claim cannot be true).
 */
export function ruleTime(occurredAt: number, receivedAt: number, flag: TimeFlag | null): number {
  return flag === 'clock_skew' ? receivedAt : occurredAt;
}
