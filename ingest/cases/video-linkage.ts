/**
 * 视频联动 (video linkage): a new priority-1 case brings its nearest cameras up on the wall, and every case
 * raised with linked cameras gets a snapshot from the nearest one attached as evidence at the moment it is
 * raised (issue "Live video", items 4 and 6).
 */
import type { Db } from '../store/db.ts';
import type { Logger } from '../log.ts';
import type { LiveHub } from '../live/hub.ts';
import type { VideoRelay } from '../video/index.ts';
import { isDomainError } from '../../core/errors.ts';
import type { Case } from '../../core/cases/types.ts';
import { SYSTEM_ACTOR } from '../cases/port.ts';
import type { CaseService } from './service.ts';

const FRESH_MS = 120_000; // a case counts as "just raised" for this long after its creation
const WALL_CAMERAS = 4; // cameras brought up on the wall per case
const MAX_PENDING = 20; // snapshots waiting; an alarm storm beyond this gets none (the cases are still linked)
const CAMERA_FAIL_MS = 60_000; // after a failed snapshot, a camera is skipped this long

export async function insertEvidence(
  db: Db,
  e: { caseId: string; kind: string; source: string | null; mime: string; bytes: Buffer },
): Promise<number> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO case_evidence (case_id, kind, source, mime, bytes) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [e.caseId, e.kind, e.source, e.mime, e.bytes],
  );
  return Number(r.rows[0].id);
}

export async function getEvidence(db: Db, caseId: string, id: number): Promise<{ mime: string; bytes: Buffer } | null> {
  const r = await db.query<{ mime: string; bytes: Buffer | Uint8Array }>(
    `SELECT mime, bytes FROM case_evidence WHERE case_id = $1 AND id = $2`,
    [caseId, id],
  );
  const row = r.rows[0];
  return row ? { mime: row.mime, bytes: Buffer.from(row.bytes) } : null;
}

/** The evidence files of a case, oldest first, without their bytes (`GET /api/cases/{id}/evidence`). */
export async function listEvidence(
  db: Db,
  caseId: string,
): Promise<{ id: number; kind: string; source: string | null; mime: string; createdAt: string }[]> {
  const r = await db.query<{
    id: string;
    kind: string;
    source: string | null;
    mime: string;
    created_at: Date | string;
  }>(`SELECT id, kind, source, mime, created_at FROM case_evidence WHERE case_id = $1 ORDER BY id`, [caseId]);
  return r.rows.map((x) => ({
    id: Number(x.id),
    kind: x.kind,
    source: x.source,
    mime: x.mime,
    createdAt: new Date(x.created_at).toISOString(),
  }));
}

export function attachVideoLinkage(deps: {
  cases: CaseService;
  video: VideoRelay;
  live: LiveHub;
  db: Db;
  log: Logger;
  now?: () => number;
}): void {
  const { cases, video, live, db, log } = deps;
  const now = deps.now ?? Date.now;
  const linked = new Set<string>(); // cases already brought up on the wall
  const snapped = new Set<string>(); // cases already given a snapshot
  const remember = (s: Set<string>, id: string) => {
    if (s.size > 10_000) s.clear();
    s.add(id);
  };

  // Snapshots spawn ffmpeg: one at a time, off the alarm's own path, bounded, and never again soon at a
  // camera that just failed — so they cannot slow the cases they illustrate.
  const pending: Case[] = [];
  const failedUntil = new Map<string, number>();
  let running = false;
  function enqueue(c: Case): void {
    if (pending.length >= MAX_PENDING) return;
    pending.push(c);
    if (!running) void drain();
  }
  async function drain(): Promise<void> {
    running = true;
    try {
      for (let c = pending.shift(); c; c = pending.shift()) await snapshotEvidence(c);
    } finally {
      running = false;
    }
  }

  async function snapshotEvidence(c: Case): Promise<void> {
    for (const cam of c.linkedCameras.slice(0, 2)) {
      if ((failedUntil.get(cam) ?? 0) > now()) continue;
      try {
        const jpeg = await video.snapshot(cam);
        const id = await insertEvidence(db, {
          caseId: c.id,
          kind: 'snapshot',
          source: cam,
          mime: 'image/jpeg',
          bytes: jpeg,
        });
        const url = `/api/cases/${c.id}/evidence/${id}`;
        // On the trail as a system comment; a concurrent user action may win the version race: retry.
        for (let attempt = 0; attempt < 3; attempt++) {
          const current = await cases.get(c.id, SYSTEM_ACTOR);
          try {
            await cases.act(
              c.id,
              {
                action: 'comment',
                note: `camera ${cam} snapshot attached (视频联动): ${url}`,
                version: current.version,
              },
              SYSTEM_ACTOR,
            );
            break;
          } catch (e) {
            if (!(isDomainError(e) && e.code === 'stale_version')) throw e;
          }
        }
        log.info({ case: c.code, camera: cam, evidence: url }, 'snapshot attached');
        return;
      } catch (e) {
        if (failedUntil.size > 10_000) failedUntil.clear();
        failedUntil.set(cam, now() + CAMERA_FAIL_MS);
        log.warn({ case: c.code, camera: cam, err: (e as Error).message }, 'snapshot for case failed');
      }
    }
  }

  cases.onChange((c) => {
    if (!c.linkedCameras.length || now() - c.createdAt > FRESH_MS) return;
    if (['closed', 'rejected', 'merged'].includes(c.state)) return;
    if (c.priority === 1 && !linked.has(c.id)) {
      remember(linked, c.id);
      live.publish(
        {
          type: 'video',
          event: 'linkage',
          caseId: c.id,
          code: c.code,
          title: c.title,
          cameras: c.linkedCameras.slice(0, WALL_CAMERAS),
        },
        cases.audienceOf(c),
      );
    }
    if (!snapped.has(c.id)) {
      remember(snapped, c.id);
      enqueue(c);
    }
  });
}
