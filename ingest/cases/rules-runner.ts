/**
 * The rules runner: feeds what ingest committed (events, readings, device status) to core's RuleEngine and
 * turns its decisions into case changes, each in one transaction with its trail entries, published on
 * `/live` after the commit (DESIGN.md "Data flow of one reading", steps 6–7).
 *
 * - open_case → a new case keyed `rule_key = rule:device` (one open case per key, a partial unique index):
 *   registered at once when the rule says so, dispatched at once (fire alarm → fire department, with the
 *   deadline of its category and priority), with the cameras within the rule's radius linked. When an open
 *   case with that key already exists (a restart emptied the engine, or another ingest process raised it)
 *   the event is added to it instead.
 * - add_to_case → eventCount + n and a trail entry (`add_events`); decisions are coalesced per key, so a
 *   burst of repeats is a few writes, not one per event. The case version is not raised: a counter is not
 *   something a person decides on, and raising it would turn every dispatcher's click into a 409 during a storm.
 * - raise_priority → the priority and, when it shortens it, the deadline (version +1).
 * - condition_cleared → a trail entry; the case stays open for a person to close.
 * Decisions are handled one at a time, in order. The engine's state is in memory; the database's rule keys
 * keep repeats folding across restarts and processes.
 *
 * The rules file is `DATA_DIR/rules.json` when present, otherwise core's DEFAULT_RULES_TEXT. It is watched
 * (fs.watch, and a poll as fallback for file systems without notifications) and reloaded without a restart;
 * a file that does not parse is refused with the line at fault logged, and the rules in force stay.
 */
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_RULES,
  DEFAULT_RULES_TEXT,
  RuleEngine,
  coalesceDecisions,
  parseRules,
  type AddToCaseDecision,
  type OpenCaseDecision,
  type Reading,
  type RuleDecision,
  type RuleEvent,
  type RuleSet,
  livenessOf,
} from '../../core/rules/index.ts';
import { ruleTime } from '../../core/schemas/index.ts';
import { linkEventsToCase } from '../store/ingest.ts';
import { deadlineFor } from '../../core/cases/sla.ts';
import type { CaseAction, GridRef } from '../../core/cases/types.ts';
import { isDomainError } from '../../core/errors.ts';
import type { Logger } from '../log.ts';
import { listDevices } from '../store/devices.ts';
import type { StoredCase } from '../store/cases.ts';
import { SYSTEM_ACTOR } from './port.ts';
import type { CaseService, CaseTx } from './service.ts';

export interface RulesRunnerOptions {
  /** `DATA_DIR/rules.json`; null = the default rules only. */
  rulesPath: string | null;
  log?: Logger;
  /** Heartbeat check every this often, ms. */
  tickMs?: number;
  /** Rules-file poll (fallback to fs.watch), ms. */
  pollMs?: number;
  /** Device registry re-read (intervals, locations) every this often, ms. */
  devicesRefreshMs?: number;
  /**
   * Called after events were added to a case (opened or joined), with those events: the evidence fetcher
   * (Frigate snapshots) listens here. Never awaited; must not throw.
   */
  onCaseEvents?(caseId: string, events: CommittedEvent[]): void;
}

/** What ingest hands over after a commit (ingest/consumer/index.ts IngestDeps callbacks). */
export interface CommittedEvent {
  deviceId: string;
  deviceKind: string;
  /** Device time (occurredAt). */
  ts: Date;
  /** Receipt time; absent = ts. */
  receivedAt?: Date;
  timeFlag?: string | null;
  /** Stored event id (null/absent: not known). */
  eventId?: number | null;
  externalId?: string | null;
  /** False for a Frigate object's later phase folded into its stored event (counted once). */
  fresh?: boolean;
  /** The case the stored event already belongs to (possibly rejected). */
  caseId?: string | null;
  type: string;
  severity: string | null;
  lng: number | null;
  lat: number | null;
  grid: string | null;
  attrs: Record<string, unknown>;
}

export interface CommittedReading {
  deviceId: string;
  deviceKind: string;
  ts: Date;
  receivedAt?: Date;
  timeFlag?: string | null;
  metrics: Record<string, number>;
  lng: number | null;
  lat: number | null;
  grid: string | null;
}

interface KnownDevice {
  kind: string;
  /** Effective liveness interval (core livenessOf): 0 = not watched. */
  intervalS: number;
  gateway: string | null;
  loc: [number, number] | null;
  grid: string | null;
}

export interface RulesStatus {
  source: 'file' | 'default';
  path: string | null;
  loadedAt: string;
  /** The last refused file's error (with its line), null when the file in force is the latest. */
  error: string | null;
}

/** The four codes of a base-grid code by prefix (GB 15-digit layout: 6 + 3 + 3 + 3). */
export function gridRefOf(code: string | null): GridRef {
  if (!code) return { district: null, street: null, community: null, grid: null };
  return {
    district: code.length >= 6 ? code.slice(0, 6) : null,
    street: code.length >= 9 ? code.slice(0, 9) : null,
    community: code.length >= 12 ? code.slice(0, 12) : null,
    grid: code.length >= 15 ? code : null,
  };
}

const isUniqueViolation = (e: unknown): boolean =>
  !!e && typeof e === 'object' && (e as { code?: unknown }).code === '23505';

export class RulesRunner {
  readonly engine = new RuleEngine(DEFAULT_RULES);
  private readonly keyToCase = new Map<string, string>();
  private readonly caseToKey = new Map<string, string>();
  /** The decision that opened each engine key's case (to reopen when the case ended behind the engine). */
  private readonly templates = new Map<string, OpenCaseDecision>();
  private readonly devices = new Map<string, KnownDevice>();
  private pending: RuleDecision[] = [];
  private draining: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private watcher: FSWatcher | null = null;
  private lastStat = '';
  private status: RulesStatus = { source: 'default', path: null, loadedAt: new Date(0).toISOString(), error: null };
  private devicesLoading: Promise<void> | null = null;
  private readonly o: Required<Omit<RulesRunnerOptions, 'log' | 'rulesPath' | 'onCaseEvents'>>;
  private stopped = false;

  constructor(
    private readonly svc: CaseService,
    private readonly opts: RulesRunnerOptions,
  ) {
    this.o = {
      tickMs: opts.tickMs ?? 5000,
      pollMs: opts.pollMs ?? 2000,
      devicesRefreshMs: opts.devicesRefreshMs ?? 60_000,
    };
    svc.onCaseEnded((caseId) => {
      const key = this.caseToKey.get(caseId);
      if (key) this.forget(key);
    });
  }

  private get log(): Logger | undefined {
    return this.opts.log;
  }

  // ---------------------------------------------------------------------------------------------------
  // lifecycle

  async start(): Promise<void> {
    this.reloadRules('start');
    await this.loadDevices();
    // Watch the devices that were heard from before (a restart keeps watching them); the others start
    // being watched when first heard, so a registry of silent devices raises no heartbeat storm.
    const now = this.svc.now();
    const heard = await listDevices(this.svc.db, { limit: 1_000_000 });
    for (const d of heard) if (d.online || d.lastSeen) this.watch(d.id, now);
    const file = this.opts.rulesPath;
    if (file) {
      try {
        this.watcher = watch(path.dirname(file), (_ev, name) => {
          if (!name || name.toString() === path.basename(file)) this.reloadRules('watch');
        });
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = null;
        });
      } catch {
        this.watcher = null; // the poll below covers it
      }
      this.timers.push(setInterval(() => this.reloadRules('poll'), this.o.pollMs));
    }
    this.timers.push(setInterval(() => this.tick(), this.o.tickMs));
    this.timers.push(
      setInterval(
        () =>
          void this.loadDevices().catch((e) => this.log?.warn({ err: (e as Error).message }, 'device reload failed')),
        this.o.devicesRefreshMs,
      ),
    );
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.watcher?.close();
    this.watcher = null;
    await this.idle();
  }

  rulesStatus(): RulesStatus {
    return { ...this.status };
  }

  // ---------------------------------------------------------------------------------------------------
  // rules file

  /** Read the rules file if it changed; a bad one is refused and the rules in force stay. */
  reloadRules(why: string): boolean {
    const file = this.opts.rulesPath;
    let stat = 'absent';
    if (file) {
      try {
        const st = statSync(file);
        stat = `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        stat = 'absent';
      }
    }
    if (stat === this.lastStat) return false;
    this.lastStat = stat;
    if (stat === 'absent' || !file) {
      if (this.status.source !== 'default' || why === 'start') {
        this.engine.setRules(DEFAULT_RULES);
        this.status = { source: 'default', path: file, loadedAt: new Date().toISOString(), error: null };
        if (why !== 'start') this.log?.info({ file }, 'rules file removed: default rules in force');
      }
      return true;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      this.lastStat = ''; // try again next time
      this.log?.warn({ file, err: (e as Error).message }, 'rules file unreadable; rules in force stay');
      return false;
    }
    let rules: RuleSet;
    try {
      rules = parseRules(text);
    } catch (e) {
      const msg = (e as Error).message;
      this.status = { ...this.status, error: msg };
      this.log?.error(
        { file, err: msg, ...(isDomainError(e) ? { details: e.details } : {}) },
        'rules file refused; rules in force stay',
      );
      return false;
    }
    this.engine.setRules(rules);
    this.status = { source: 'file', path: file, loadedAt: new Date().toISOString(), error: null };
    this.log?.info({ file, why }, 'rules file loaded');
    return true;
  }

  /** The default rules file's text (for `onegrid rules init` or docs). */
  static defaultText(): string {
    return DEFAULT_RULES_TEXT;
  }

  // ---------------------------------------------------------------------------------------------------
  // devices (heartbeat)

  private loadDevices(): Promise<void> {
    this.devicesLoading ??= (async () => {
      const rows = await listDevices(this.svc.db, { limit: 1_000_000 });
      for (const d of rows) {
        const live = livenessOf(d);
        this.devices.set(d.id, {
          kind: d.kind,
          intervalS: live.intervalS,
          gateway: d.gateway,
          loc: d.location,
          grid: d.grid,
        });
        // A device whose liveness changed to "none" (camera, gateway child) is no longer watched.
        if (live.intervalS <= 0 && this.engine.state.devices[`dev:${d.id}`]) this.engine.unwatchDevice(d.id);
      }
      // A camera added since the last load is linked from now on.
      if (rows.some((d) => d.kind === 'camera' && d.location)) await this.svc.refreshCameras();
    })().finally(() => {
      this.devicesLoading = null;
    });
    return this.devicesLoading;
  }

  private watch(deviceId: string, now: number): void {
    if (this.engine.state.devices[deviceId]) return;
    const d = this.devices.get(deviceId);
    if (!d || d.intervalS <= 0) return;
    this.engine.watchDevice(
      {
        deviceId,
        deviceKind: d.kind,
        intervalS: d.intervalS,
        gateway: d.gateway,
        loc: d.loc,
        grid: gridRefOf(d.grid),
      },
      now,
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // input (called by ingest after its batch committed; never throws)

  /** Events handed to the engine, by stored id, until their decision is written (for onCaseEvents). */
  private readonly judged = new Map<number, CommittedEvent>();

  onEvents(rows: readonly CommittedEvent[]): void {
    if (this.stopped || rows.length === 0) return;
    // Rules act on stored facts: a later phase of a Frigate object whose stored event already belongs to a
    // case (open or rejected) is that case's, and counts nothing.
    const facts = rows.filter((r) => r.fresh !== false || !r.caseId);
    if (!facts.length) return;
    this.run(
      facts.map((r) => r.deviceId),
      () => {
        const now = this.svc.now();
        const out: RuleDecision[] = [];
        for (const r of facts) {
          this.watch(r.deviceId, now);
          const occurredAt = r.ts.getTime();
          const receivedAt = (r.receivedAt ?? r.ts).getTime();
          const flag = (r.timeFlag ?? null) as RuleEvent['timeFlag'];
          const e: RuleEvent = {
            deviceId: r.deviceId,
            deviceKind: r.deviceKind,
            type: r.type,
            ...(r.severity ? { severity: r.severity as RuleEvent['severity'] } : {}),
            // Windows (fusion, storm) rest on the device's time only when it is plausible.
            ts: ruleTime(occurredAt, receivedAt, flag ?? null),
            occurredAt,
            receivedAt,
            timeFlag: flag ?? null,
            loc: r.lng === null || r.lat === null ? null : [r.lng, r.lat],
            grid: gridRefOf(r.grid),
            attrs: r.attrs ?? {},
            ...(r.externalId ? { factId: `${r.deviceId}/${r.externalId}` } : {}),
            ...(typeof r.eventId === 'number' ? { eventId: r.eventId } : {}),
          };
          if (typeof r.eventId === 'number') {
            if (this.judged.size > 10_000) this.judged.clear();
            this.judged.set(r.eventId, r);
          }
          out.push(...this.engine.onEvent(e, now));
        }
        return out;
      },
    );
  }

  onReadings(rows: readonly CommittedReading[]): void {
    if (this.stopped || rows.length === 0) return;
    this.run(
      rows.map((r) => r.deviceId),
      () => {
        const now = this.svc.now();
        const out: RuleDecision[] = [];
        for (const r of rows) {
          this.watch(r.deviceId, now);
          const reading: Reading = {
            deviceId: r.deviceId,
            deviceKind: r.deviceKind,
            // Held-for-30-s thresholds count on receipt time when the device's clock runs ahead.
            ts: ruleTime(r.ts.getTime(), (r.receivedAt ?? r.ts).getTime(), (r.timeFlag ?? null) as 'late' | null),
            metrics: r.metrics,
            loc: r.lng === null || r.lat === null ? null : [r.lng, r.lat],
            grid: gridRefOf(r.grid),
          };
          out.push(...this.engine.onReading(reading, now));
        }
        return out;
      },
    );
  }

  onDeviceStatus(deviceId: string, online: boolean, at: Date): void {
    if (this.stopped || !online) return;
    this.run([deviceId], () => {
      this.watch(deviceId, at.getTime());
      // A status message is a sign of life: the engine hears the device through an empty reading.
      return this.engine.onReading(
        { deviceId, ts: at.getTime(), metrics: {}, loc: null, grid: gridRefOf(null) },
        this.svc.now(),
      );
    });
  }

  /** Heartbeat loss and storm-window housekeeping. */
  tick(): void {
    if (this.stopped) return;
    this.run([], () => this.engine.onTick(this.svc.now()));
  }

  // ---------------------------------------------------------------------------------------------------
  // decisions → cases

  private backlog: (() => RuleDecision[])[] = [];
  private judging: Promise<void> | null = null;

  /**
   * Judge now (the engine is synchronous), in arrival order. Messages of a device not in the registry copy
   * wait, with everything behind them, until the registry is read again.
   */
  private run(deviceIds: string[], judge: () => RuleDecision[]): void {
    const now = Date.now();
    const known = (id: string) => this.devices.has(id) || (this.unknownUntil.get(id) ?? 0) > now;
    if (!this.judging && deviceIds.every(known)) {
      this.accept(judge);
      return;
    }
    this.backlog.push(judge);
    this.judging ??= (async () => {
      try {
        await this.loadDevices();
      } catch (e) {
        this.log?.warn({ err: (e as Error).message }, 'device registry read failed; judging with what is known');
      }
      // Ids still unknown after a fresh read (removed meanwhile) do not trigger another read for a minute.
      const until = Date.now() + 60_000;
      for (const id of deviceIds) if (!this.devices.has(id)) this.unknownUntil.set(id, until);
      if (this.unknownUntil.size > 10_000) this.unknownUntil.clear();
      while (this.backlog.length) this.accept(this.backlog.shift()!);
      this.judging = null;
    })();
  }

  private readonly unknownUntil = new Map<string, number>();

  private accept(judge: () => RuleDecision[]): void {
    let ds: RuleDecision[];
    try {
      ds = judge();
    } catch (e) {
      this.log?.error({ err: e }, 'rule judgement failed');
      return;
    }
    if (ds.length === 0) return;
    this.pending.push(...ds);
    this.draining ??= this.drain();
  }

  /** Write the queued decisions one at a time; a backlog is coalesced (adds per case summed). */
  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = coalesceDecisions(this.pending.splice(0));
      for (const d of batch) {
        try {
          await this.handle(d);
        } catch (e) {
          this.log?.error({ err: e, decision: d.kind, key: d.key }, 'rule decision failed');
        }
      }
    }
    this.draining = null;
  }

  /** Resolves when every decision taken so far is written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.judging || this.draining) {
      await this.judging;
      await this.draining;
    }
  }

  private async handle(d: RuleDecision): Promise<unknown> {
    switch (d.kind) {
      case 'open_case':
        return this.open(d);
      case 'add_to_case':
        return this.add(d);
      case 'raise_priority':
        return this.onCase(d.key, async (tx, s) => {
          if (d.priority >= s.case.priority) return;
          const c = s.case;
          const base = c.registeredAt ?? this.svc.now();
          const shorter =
            c.deadline === null
              ? null
              : Math.min(c.deadline, deadlineFor(c.category, d.priority, base, this.svc.deadlines));
          await tx.amend(
            s,
            'raise_priority',
            (n) => {
              n.priority = d.priority;
              if (shorter !== null) n.deadline = shorter;
            },
            { note: d.reason, data: { from: c.priority, to: d.priority } },
            SYSTEM_ACTOR,
            true,
          );
        });
      case 'condition_cleared':
        return this.onCase(d.key, async (tx, s) => {
          await tx.amend(s, 'condition_cleared', () => {}, { note: d.reason, data: {} }, SYSTEM_ACTOR, false);
        });
    }
  }

  private remember(key: string, caseId: string, d: OpenCaseDecision): void {
    this.keyToCase.set(key, caseId);
    this.caseToKey.set(caseId, key);
    this.templates.set(key, d);
  }

  private forget(key: string): void {
    const id = this.keyToCase.get(key);
    this.engine.onCaseClosed(key);
    this.keyToCase.delete(key);
    this.templates.delete(key);
    if (id) this.caseToKey.delete(id);
  }

  /**
   * Run fn on the open case behind an engine key, locked. When that case has ended meanwhile (closed by
   * another process, or behind our back) the key is forgotten and `false` is returned.
   */
  private async onCase(key: string, fn: (tx: CaseTx, s: StoredCase) => Promise<void>): Promise<boolean> {
    const id = this.keyToCase.get(key);
    if (!id) return false;
    return this.svc
      .transact(async (tx) => {
        const s = await tx.lock(id);
        if (!s || ['closed', 'rejected', 'merged'].includes(s.case.state)) return false;
        await fn(tx, s);
        return true;
      })
      .then((ok) => {
        if (!ok) this.forget(key);
        return ok;
      });
  }

  private addEvents(tx: CaseTx, s: StoredCase, count: number, deviceId: string, reason: string): Promise<StoredCase> {
    const isCamera = this.devices.get(deviceId)?.kind === 'camera';
    return tx.amend(
      s,
      'add_events',
      (n) => {
        n.eventCount += count;
        // A camera whose detection joined the case is linked to it (fusion).
        if (isCamera && !n.linkedCameras.includes(deviceId)) n.linkedCameras.push(deviceId);
      },
      { note: `${count} event(s) added (${reason}) from ${deviceId}`, data: { count, reason, deviceId } },
      SYSTEM_ACTOR,
      false,
    );
  }

  /** Link the decision's stored events to their case, and hand them to onCaseEvents (evidence). */
  private async linked(caseId: string, eventIds: number[] | undefined): Promise<void> {
    if (!eventIds?.length) return;
    await linkEventsToCase(this.svc.db, eventIds, caseId);
    const evs: CommittedEvent[] = [];
    for (const id of eventIds) {
      const e = this.judged.get(id);
      if (e) evs.push(e);
      this.judged.delete(id);
    }
    if (evs.length && this.opts.onCaseEvents) {
      try {
        this.opts.onCaseEvents(caseId, evs);
      } catch (e) {
        this.log?.warn({ err: (e as Error).message }, 'onCaseEvents failed');
      }
    }
  }

  private async add(d: AddToCaseDecision): Promise<void> {
    const tpl = this.templates.get(d.key);
    const ok = await this.onCase(d.key, async (tx, s) => {
      await this.addEvents(tx, s, d.count, d.deviceId, d.reason);
    });
    const caseId = this.keyToCase.get(d.key);
    if (ok && caseId) await this.linked(caseId, d.eventIds);
    // The case ended under the engine's feet: these events open a new one, as the engine would have.
    if (!ok && tpl)
      await this.open({ ...tpl, eventCount: d.count, ts: d.ts, deviceId: tpl.deviceId, eventIds: d.eventIds });
  }

  private async open(d: OpenCaseDecision, retry = true): Promise<void> {
    // A late report never folds into (or takes in) the case of what is happening now.
    const ruleKey = d.late ? `${d.rule}:late:${d.deviceId}` : `${d.rule}:${d.deviceId}`;
    try {
      const caseId = await this.svc.transact(async (tx) => {
        const existing = await tx.lockOpenByRuleKey(ruleKey);
        if (existing) {
          await this.addEvents(tx, existing, d.eventCount, d.deviceId, 'repeat');
          return existing.case.id;
        }
        const isCamera = this.devices.get(d.deviceId)?.kind === 'camera';
        const near = this.svc.cameras.near(d.location, d.linkCamerasRadiusM);
        const linked = isCamera && !near.includes(d.deviceId) ? [d.deviceId, ...near] : near;
        const then: { action: CaseAction; actor: typeof SYSTEM_ACTOR }[] = [];
        // A late report (迟报) is left `reported` for a person to confirm: not registered, not dispatched.
        if (!d.late && (d.autoRegister || d.autoDispatch)) {
          then.push({
            action: { action: 'register', category: d.category, priority: d.priority, note: `rule ${d.rule}` },
            actor: SYSTEM_ACTOR,
          });
        }
        if (!d.late && d.autoDispatch) {
          const department = this.svc.departments.resolve(d.autoDispatch, d.category);
          then.push({
            action: { action: 'dispatch', to: { kind: 'department', id: department }, note: `rule ${d.rule}` },
            actor: SYSTEM_ACTOR,
          });
        }
        const s = await tx.create(
          {
            title: d.title,
            category: d.category,
            priority: d.priority,
            location: d.location,
            grid: d.grid,
            source: d.source,
            linkedCameras: linked,
            eventCount: d.eventCount,
            attributes: {
              rule: d.rule,
              deviceId: d.deviceId,
              // When the event happened (device time) and when it arrived; the clock's flag.
              ...(d.time
                ? {
                    occurredAt: new Date(d.time.occurredAt).toISOString(),
                    receivedAt: new Date(d.time.receivedAt).toISOString(),
                    ...(d.time.flag ? { timeFlag: d.time.flag } : {}),
                  }
                : {}),
              ...(d.late ? { late: true } : {}),
            },
          },
          SYSTEM_ACTOR,
          { ruleKey, then },
        );
        return s.case.id;
      });
      this.remember(d.key, caseId, d);
      await this.linked(caseId, d.eventIds);
    } catch (e) {
      // Another process opened the case for this key between our check and insert: add to it.
      if (retry && isUniqueViolation(e)) return this.open(d, false);
      throw e;
    }
  }
}
