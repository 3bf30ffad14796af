/**
 * The rules file: JSON with comments (`//` and `/* *\/`) and trailing commas allowed, parsed here by hand
 * so that every error — syntax or meaning — names the line at fault. A bad file throws
 * DomainError('validation_failed', 'rules file line N: …', { line, column?, path? }); the caller keeps
 * its old RuleSet in that case (the engine is only handed a RuleSet that parsed).
 *
 * Format (see DEFAULT_RULES_TEXT for the full default file):
 *   {
 *     "version": 1,
 *     "events":     [ { "name", "type", "category", "priority", "title"?, "autoRegister"?, "autoDispatch"?,
 *                       "linkCamerasRadiusM"?, "fuse"?, "fuseJoin"? } ],
 *     "detections": [ { "name", "label", "minScore", "category", "priority", … same optional fields } ],
 *     "fusion":     { "<group>": { "radiusM", "windowS", "raiseTo" } },
 *     "thresholds": [ { "name", "metric", "op": ">" | "<", "value", "forS", "clear", "category", "priority",
 *                       "deviceKinds"?, "title"?, "autoRegister"?, "autoDispatch"?, "linkCamerasRadiusM"? } ],
 *     "heartbeat":  { "multiplier", "category", "priority" },
 *     "storm":      { "windowS", "maxCasesPerGridRule" }
 *   }
 */
import { DomainError } from '../errors.ts';
import type { Priority } from '../cases/types.ts';
import type { DetectionRule, EventRule, FusionGroup, RuleSet, ThresholdRule } from './types.ts';

export const DEFAULT_RULES_TEXT = `// OneGrid rules file (JSON with comments). Changes are picked up without a restart;
// a file with an error is refused with its line number and the rules in force stay.
{
  "version": 1,

  // Device events (CONTRACT.md "Sensor-raised cases").
  "events": [
    // A fire alarm is a priority-1 case, registered and dispatched to the fire department at once,
    // with the cameras within 300 m linked. It anchors fire fusion but never joins another case.
    { "name": "fire-alarm", "type": "fire_alarm", "category": "fire.fire_alarm", "priority": 1,
      "title": "火警 Fire alarm", "autoDispatch": "fire", "linkCamerasRadiusM": 300,
      "fuse": "fire", "fuseJoin": false },
    // A smoke alarm is a suspected fire (priority 2) with linked cameras; camera fire/smoke nearby raises it.
    { "name": "smoke-alarm", "type": "smoke_alarm", "category": "fire.suspected_fire", "priority": 2,
      "title": "疑似火情 Suspected fire (smoke alarm)", "autoRegister": true, "linkCamerasRadiusM": 300,
      "fuse": "fire" },
    { "name": "heat-alarm", "type": "heat_alarm", "category": "fire.heat_alarm", "priority": 2,
      "autoRegister": true, "linkCamerasRadiusM": 300, "fuse": "fire" },
    { "name": "gas-alarm", "type": "gas_alarm", "category": "fire.gas_alarm", "priority": 1,
      "autoDispatch": "fire", "linkCamerasRadiusM": 300 },
    { "name": "device-fault", "type": "fault", "category": "facility_fault.device_fault", "priority": 4 },
    { "name": "tamper", "type": "tamper", "category": "facility_fault.tamper", "priority": 3, "linkCamerasRadiusM": 100 },
    { "name": "manhole-tilt", "type": "manhole_tilt", "category": "facility_fault.manhole_tilt", "priority": 2,
      "autoRegister": true, "linkCamerasRadiusM": 100 },
    { "name": "water-level", "type": "water_level", "category": "environment.water_level", "priority": 2,
      "autoRegister": true, "linkCamerasRadiusM": 300 }
  ],

  // Camera AI detections (event type ai_detection, attrs.label and attrs.score).
  "detections": [
    { "name": "ai-fire", "label": "fire", "minScore": 0.6, "category": "fire.suspected_fire", "priority": 2,
      "title": "疑似火情 Suspected fire (camera)", "autoRegister": true, "fuse": "fire" },
    { "name": "ai-smoke", "label": "smoke", "minScore": 0.6, "category": "fire.suspected_fire", "priority": 2,
      "title": "疑似火情 Suspected fire (camera)", "autoRegister": true, "fuse": "fire" },
    { "name": "ai-street-vending", "label": "street_vending", "minScore": 0.7,
      "category": "street_order.street_vending", "priority": 3 },
    { "name": "ai-exposed-garbage", "label": "exposed_garbage", "minScore": 0.7,
      "category": "city_appearance.exposed_garbage", "priority": 3 },
    { "name": "ai-illegal-parking", "label": "illegal_parking", "minScore": 0.7,
      "category": "street_order.illegal_parking", "priority": 3 },
    { "name": "ai-crowding", "label": "crowding", "minScore": 0.8, "category": "street_order.crowding", "priority": 2 },
    { "name": "ai-shop-spillover", "label": "shop_spillover", "minScore": 0.7,
      "category": "street_order.shop_spillover", "priority": 4 },
    { "name": "ai-overflowing-bin", "label": "overflowing_bin", "minScore": 0.7,
      "category": "city_appearance.overflowing_bin", "priority": 4 }
  ],

  // Fusion: events of one group within radiusM and windowS join one case; evidence from the other
  // modality (camera vs. sensor) raises it to raiseTo.
  "fusion": {
    "fire": { "radiusM": 200, "windowS": 300, "raiseTo": 1 }
  },

  // Telemetry thresholds: the condition must hold forS seconds; it clears only past "clear" (hysteresis).
  "thresholds": [
    { "name": "overheat", "metric": "temp_c", "op": ">", "value": 70, "forS": 30, "clear": 65,
      "category": "environment.high_temperature", "priority": 2, "autoRegister": true, "linkCamerasRadiusM": 300 },
    { "name": "high-water", "metric": "water_level_m", "op": ">", "value": 0.3, "forS": 60, "clear": 0.2,
      "category": "environment.water_level", "priority": 2, "autoRegister": true },
    { "name": "gas-concentration", "metric": "gas_lel_pct", "op": ">", "value": 20, "forS": 5, "clear": 10,
      "category": "fire.gas_alarm", "priority": 1, "autoDispatch": "fire", "linkCamerasRadiusM": 300 }
  ],

  // Heartbeat loss: no message for multiplier × the device's interval.
  "heartbeat": { "multiplier": 3, "category": "facility_fault.device_offline", "priority": 3 },

  // Storm control: at most maxCasesPerGridRule new cases per base grid and rule in windowS;
  // later events are added to the newest open one as counts.
  "storm": { "windowS": 600, "maxCasesPerGridRule": 3 },

  // Late reports (迟报): an event whose device time is more than afterS (per type: byType) behind its
  // receipt — an outbox flushed after an outage — raises a case marked late, with its occurrence time,
  // for a person to confirm: never registered or dispatched as if it were happening now.
  "late": { "afterS": 600, "byType": { "fire_alarm": 300, "smoke_alarm": 300, "gas_alarm": 300 } }
}
`;

// ---------------------------------------------------------------------------------------------------
// a JSON-with-comments parser that remembers where each value was

export interface Located {
  value: unknown;
  /** path ("events[0].priority") → line (1-based) of the member's key or the element's value. */
  lines: Map<string, number>;
}

function syntaxError(line: number, column: number, msg: string): DomainError {
  return new DomainError('validation_failed', `rules file line ${line}: ${msg}`, { line, column });
}

export function parseJsonc(text: string): Located {
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const lines = new Map<string, number>();

  const col = (): number => pos - lineStart + 1;
  const fail = (msg: string): never => {
    throw syntaxError(line, col(), msg);
  };
  const advance = (): void => {
    if (text[pos] === '\n') {
      line++;
      lineStart = pos + 1;
    }
    pos++;
  };
  const skip = (): void => {
    for (;;) {
      const ch = text[pos];
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\uFEFF') advance();
      else if (ch === '/' && text[pos + 1] === '/') {
        while (pos < text.length && text[pos] !== '\n') advance();
      } else if (ch === '/' && text[pos + 1] === '*') {
        const startLine = line;
        advance();
        advance();
        while (pos < text.length && !(text[pos] === '*' && text[pos + 1] === '/')) advance();
        if (pos >= text.length) throw syntaxError(startLine, 1, 'unterminated /* comment');
        advance();
        advance();
      } else return;
    }
  };
  const describe = (): string => (pos >= text.length ? 'end of file' : JSON.stringify(text[pos]));

  const parseString = (): string => {
    // text[pos] === '"'
    const start = pos;
    advance();
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\n') fail('unterminated string');
      if (text[pos] === '\\') advance();
      advance();
    }
    if (pos >= text.length) fail('unterminated string');
    advance();
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail('bad escape in string');
    }
  };

  const parseValue = (path: string): unknown => {
    skip();
    const ch = text[pos];
    if (ch === '{') return parseObject(path);
    if (ch === '[') return parseArray(path);
    if (ch === '"') return parseString();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(pos, pos + 64));
    if (!m) return fail(`unexpected ${describe()}`);
    for (let i = 0; i < m[0].length; i++) advance();
    if (/[A-Za-z0-9_.]/.test(text[pos] ?? '')) return fail(`unexpected ${describe()}`);
    return JSON.parse(m[0]) as unknown;
  };

  const parseObject = (path: string): Record<string, unknown> => {
    const openLine = line;
    const openCol = col();
    const unclosed = (): never => {
      throw syntaxError(openLine, openCol, 'the { opened on this line is never closed');
    };
    advance(); // {
    const out: Record<string, unknown> = {};
    skip();
    if (text[pos] === '}') {
      advance();
      return out;
    }
    for (;;) {
      skip();
      if (pos >= text.length) unclosed();
      if (text[pos] === '}') {
        advance(); // trailing comma
        return out;
      }
      if (text[pos] !== '"') fail(`expected a "key" but found ${describe()}`);
      const keyLine = line;
      const key = parseString();
      const childPath = path ? `${path}.${key}` : key;
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw syntaxError(keyLine, 1, `duplicate key "${key}"`);
      }
      lines.set(childPath, keyLine);
      skip();
      if (text[pos] !== ':') fail(`expected ":" after "${key}" but found ${describe()}`);
      advance();
      // defineProperty, not assignment: a "__proto__" key must stay a plain member (as in JSON.parse)
      Object.defineProperty(out, key, {
        value: parseValue(childPath),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skip();
      if (pos >= text.length) unclosed();
      if (text[pos] === ',') {
        advance();
        continue;
      }
      if (text[pos] === '}') {
        advance();
        return out;
      }
      fail(`expected "," or "}" but found ${describe()}`);
    }
  };

  const parseArray = (path: string): unknown[] => {
    const openLine = line;
    const openCol = col();
    const unclosed = (): never => {
      throw syntaxError(openLine, openCol, 'the [ opened on this line is never closed');
    };
    advance(); // [
    const out: unknown[] = [];
    for (;;) {
      skip();
      if (pos >= text.length) unclosed();
      if (text[pos] === ']') {
        advance();
        return out;
      }
      const childPath = `${path}[${out.length}]`;
      lines.set(childPath, line);
      out.push(parseValue(childPath));
      skip();
      if (pos >= text.length) unclosed();
      if (text[pos] === ',') {
        advance();
        continue;
      }
      if (text[pos] === ']') {
        advance();
        return out;
      }
      fail(`expected "," or "]" but found ${describe()}`);
    }
  };

  skip();
  if (pos >= text.length) fail('the file is empty');
  const value = parseValue('');
  skip();
  if (pos < text.length) fail(`unexpected ${describe()} after the end of the document`);
  lines.set('', 1);
  return { value, lines };
}

// ---------------------------------------------------------------------------------------------------
// validation into a RuleSet

class Checker {
  constructor(private readonly lines: Map<string, number>) {}

  lineOf(path: string): number {
    let p = path;
    for (;;) {
      const l = this.lines.get(p);
      if (l !== undefined) return l;
      if (p === '') return 1;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      p = cut < 0 ? '' : p.slice(0, cut);
    }
  }

  fail(path: string, msg: string): never {
    const line = this.lineOf(path);
    throw new DomainError('validation_failed', `rules file line ${line}: ${path || 'the file'} ${msg}`, {
      line,
      path,
    });
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'must be a list');
    return v as unknown[];
  }
  str(o: Record<string, unknown>, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') this.fail(`${path}.${key}`, 'must be a non-empty string');
    return v as string;
  }
  optStr(o: Record<string, unknown>, key: string, path: string): string | undefined {
    return o[key] === undefined ? undefined : this.str(o, key, path);
  }
  num(o: Record<string, unknown>, key: string, path: string, min = -Infinity, max = Infinity): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${path}.${key}`, 'must be a number');
    if ((v as number) < min || (v as number) > max) this.fail(`${path}.${key}`, `must be from ${min} to ${max}`);
    return v as number;
  }
  optNum(o: Record<string, unknown>, key: string, path: string, dflt: number, min = 0, max = Infinity): number {
    return o[key] === undefined ? dflt : this.num(o, key, path, min, max);
  }
  bool(o: Record<string, unknown>, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(`${path}.${key}`, 'must be true or false');
    return v as boolean;
  }
  priority(o: Record<string, unknown>, key: string, path: string): Priority {
    const v = o[key];
    if (v !== 1 && v !== 2 && v !== 3 && v !== 4) this.fail(`${path}.${key}`, 'must be 1, 2, 3 or 4');
    return v as Priority;
  }
  known(o: Record<string, unknown>, keys: readonly string[], path: string): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${path}.${k}`, 'is not a known field');
  }
}

const COMMON = ['name', 'category', 'priority', 'title', 'autoRegister', 'autoDispatch', 'linkCamerasRadiusM'];

/** Parse and validate a rules file. Throws DomainError('validation_failed') naming the line at fault. */
export function parseRules(text: string): RuleSet {
  const { value, lines } = parseJsonc(text);
  const k = new Checker(lines);
  const root = k.obj(value, '');
  k.known(root, ['version', 'events', 'detections', 'fusion', 'thresholds', 'heartbeat', 'storm', 'late'], '');
  if (root.version !== 1) k.fail('version', 'must be 1');

  const names = new Set<string>();
  const uniqueName = (o: Record<string, unknown>, path: string): string => {
    const n = k.str(o, 'name', path);
    if (names.has(n)) k.fail(`${path}.name`, `"${n}" is used by another rule`);
    if (n === 'heartbeat') k.fail(`${path}.name`, '"heartbeat" is reserved for the heartbeat rule');
    names.add(n);
    return n;
  };

  const fusion: Record<string, FusionGroup> = {};
  const fusionObj = root.fusion === undefined ? {} : k.obj(root.fusion, 'fusion');
  for (const [g, raw] of Object.entries(fusionObj)) {
    const p = `fusion.${g}`;
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(g)) k.fail(p, 'must be named with letters, digits, - and _');
    const o = k.obj(raw, p);
    k.known(o, ['radiusM', 'windowS', 'raiseTo'], p);
    fusion[g] = {
      radiusM: k.num(o, 'radiusM', p, 0, 100_000),
      windowS: k.num(o, 'windowS', p, 0, 86_400),
      raiseTo: k.priority(o, 'raiseTo', p),
    };
  }
  const fuseOf = (o: Record<string, unknown>, p: string): string | undefined => {
    const f = k.optStr(o, 'fuse', p);
    if (f !== undefined && !Object.prototype.hasOwnProperty.call(fusion, f))
      k.fail(`${p}.fuse`, `names no group of "fusion" ("${f}")`);
    return f;
  };

  const events: EventRule[] = k.arr(root.events ?? [], 'events').map((raw, i) => {
    const p = `events[${i}]`;
    const o = k.obj(raw, p);
    k.known(o, [...COMMON, 'type', 'fuse', 'fuseJoin'], p);
    const autoDispatch = k.optStr(o, 'autoDispatch', p);
    return {
      name: uniqueName(o, p),
      type: k.str(o, 'type', p),
      category: k.str(o, 'category', p),
      priority: k.priority(o, 'priority', p),
      title: k.optStr(o, 'title', p),
      autoRegister: k.bool(o, 'autoRegister', p, autoDispatch !== undefined),
      autoDispatch,
      linkCamerasRadiusM: k.optNum(o, 'linkCamerasRadiusM', p, 0, 0, 10_000),
      fuse: fuseOf(o, p),
      fuseJoin: k.bool(o, 'fuseJoin', p, true),
    };
  });
  const types = new Set<string>();
  events.forEach((e, i) => {
    if (types.has(e.type)) k.fail(`events[${i}].type`, `"${e.type}" already has a rule`);
    types.add(e.type);
  });

  const detections: DetectionRule[] = k.arr(root.detections ?? [], 'detections').map((raw, i) => {
    const p = `detections[${i}]`;
    const o = k.obj(raw, p);
    k.known(o, [...COMMON, 'label', 'minScore', 'fuse', 'fuseJoin'], p);
    const autoDispatch = k.optStr(o, 'autoDispatch', p);
    return {
      name: uniqueName(o, p),
      label: k.str(o, 'label', p),
      minScore: k.num(o, 'minScore', p, 0, 1),
      category: k.str(o, 'category', p),
      priority: k.priority(o, 'priority', p),
      title: k.optStr(o, 'title', p),
      autoRegister: k.bool(o, 'autoRegister', p, autoDispatch !== undefined),
      autoDispatch,
      linkCamerasRadiusM: k.optNum(o, 'linkCamerasRadiusM', p, 0, 0, 10_000),
      fuse: fuseOf(o, p),
      fuseJoin: k.bool(o, 'fuseJoin', p, true),
    };
  });
  const labels = new Set<string>();
  detections.forEach((d, i) => {
    if (labels.has(d.label)) k.fail(`detections[${i}].label`, `"${d.label}" already has a rule`);
    labels.add(d.label);
  });

  const thresholds: ThresholdRule[] = k.arr(root.thresholds ?? [], 'thresholds').map((raw, i) => {
    const p = `thresholds[${i}]`;
    const o = k.obj(raw, p);
    k.known(o, [...COMMON, 'metric', 'op', 'value', 'forS', 'clear', 'deviceKinds'], p);
    if (o.op !== '>' && o.op !== '<') k.fail(`${p}.op`, 'must be ">" or "<"');
    const op = o.op as '>' | '<';
    const value = k.num(o, 'value', p);
    const clear = o.clear === undefined ? value : k.num(o, 'clear', p);
    if (op === '>' && clear > value) k.fail(`${p}.clear`, `must not be above value (${value}) for ">"`);
    if (op === '<' && clear < value) k.fail(`${p}.clear`, `must not be below value (${value}) for "<"`);
    let deviceKinds: string[] | undefined;
    if (o.deviceKinds !== undefined) {
      deviceKinds = k.arr(o.deviceKinds, `${p}.deviceKinds`).map((d, j) => {
        if (typeof d !== 'string' || d === '') k.fail(`${p}.deviceKinds[${j}]`, 'must be a device kind');
        return d as string;
      });
    }
    const autoDispatch = k.optStr(o, 'autoDispatch', p);
    return {
      name: uniqueName(o, p),
      metric: k.str(o, 'metric', p),
      op,
      value,
      forS: k.optNum(o, 'forS', p, 0, 0, 86_400),
      clear,
      category: k.str(o, 'category', p),
      priority: k.priority(o, 'priority', p),
      title: k.optStr(o, 'title', p),
      deviceKinds,
      autoRegister: k.bool(o, 'autoRegister', p, autoDispatch !== undefined),
      autoDispatch,
      linkCamerasRadiusM: k.optNum(o, 'linkCamerasRadiusM', p, 0, 0, 10_000),
    };
  });

  const hb = root.heartbeat === undefined ? {} : k.obj(root.heartbeat, 'heartbeat');
  k.known(hb, ['multiplier', 'category', 'priority'], 'heartbeat');
  const heartbeat = {
    multiplier: k.optNum(hb, 'multiplier', 'heartbeat', 3, 1, 1000),
    category: hb.category === undefined ? 'facility_fault.device_offline' : k.str(hb, 'category', 'heartbeat'),
    priority: hb.priority === undefined ? (3 as Priority) : k.priority(hb, 'priority', 'heartbeat'),
  };

  const st = root.storm === undefined ? {} : k.obj(root.storm, 'storm');
  k.known(st, ['windowS', 'maxCasesPerGridRule'], 'storm');
  const storm = {
    windowS: k.optNum(st, 'windowS', 'storm', 600, 1, 86_400),
    maxCasesPerGridRule: k.optNum(st, 'maxCasesPerGridRule', 'storm', 3, 1, 10_000),
  };
  if (!Number.isInteger(storm.maxCasesPerGridRule)) k.fail('storm.maxCasesPerGridRule', 'must be a whole number');

  const lt = root.late === undefined ? {} : k.obj(root.late, 'late');
  k.known(lt, ['afterS', 'byType'], 'late');
  const byTypeObj = lt.byType === undefined ? {} : k.obj(lt.byType, 'late.byType');
  const byType: Record<string, number> = {};
  for (const t of Object.keys(byTypeObj)) byType[t] = k.optNum(byTypeObj, t, 'late.byType', 600, 1, 30 * 86_400);
  const late = { afterS: k.optNum(lt, 'afterS', 'late', 600, 1, 30 * 86_400), byType };

  return { version: 1, events, detections, fusion, thresholds, heartbeat, storm, late };
}

/** The default rules (CONTRACT.md "Sensor-raised cases"), parsed. */
export const DEFAULT_RULES: RuleSet = parseRules(DEFAULT_RULES_TEXT);
