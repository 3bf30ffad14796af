/**
 * Evidence for cases raised or joined by camera events (issue 12 §4, §5), attached through the existing
 * evidence store (migration 006, video-linkage.ts insertEvidence):
 *
 * - a Frigate event whose NVR has a registered HTTP API address (`apiUrl`) and `has_snapshot`: the event's
 *   snapshot from `GET {apiUrl}/api/events/{id}/snapshot.jpg` (Frigate HTTP API), and with `has_clip` a
 *   link to `{apiUrl}/api/events/{id}/clip.mp4` (kind `clip_link`, text/uri-list);
 * - a camera alarm push that carried a picture (ISAPI multipart): the picture.
 *
 * Fetches run in the background with a timeout and a bound on how many wait; a failure is logged, the
 * case stands without it.
 */
import type { Db } from '../store/db.ts';
import type { Logger } from '../log.ts';
import { getDevice } from '../store/devices.ts';
import { insertEvidence } from '../cases/video-linkage.ts';
import type { CommittedEvent } from '../cases/rules-runner.ts';
import type { AlarmIntake } from './alarm-push.ts';

const FETCH_TIMEOUT_MS = 5000;
const MAX_PENDING = 20;
const MAX_SNAPSHOT_BYTES = 5 * 1024 * 1024;

export class CaseEvidenceFetcher {
  private pending = 0;
  /** Frigate objects whose snapshot was attached (one per object, whatever its phases). */
  private readonly done = new Set<string>();

  constructor(private readonly deps: { db: Db; log: Logger; intake?: AlarmIntake | null; fetch?: typeof fetch }) {}

  /** RulesRunner onCaseEvents: never throws, never blocks. */
  readonly onCaseEvents = (caseId: string, events: CommittedEvent[]): void => {
    for (const e of events) {
      if (this.pending >= MAX_PENDING) return;
      this.pending++;
      this.attach(caseId, e)
        .catch((err) => this.deps.log.warn({ err: (err as Error).message, caseId }, 'case evidence not attached'))
        .finally(() => this.pending--);
    }
  };

  private async attach(caseId: string, e: CommittedEvent): Promise<void> {
    const { db } = this.deps;
    if (typeof e.eventId === 'number' && this.deps.intake) {
      const pic = this.deps.intake.takePicture(e.eventId);
      if (pic)
        await insertEvidence(db, { caseId, kind: 'snapshot', source: pic.source, mime: pic.mime, bytes: pic.bytes });
    }
    const a = e.attrs ?? {};
    const nvr = typeof a.nvr === 'string' ? a.nvr : null;
    const id = typeof a.frigateId === 'string' ? a.frigateId : null;
    if (!nvr || !id || a.hasSnapshot !== true) return;
    const key = `${caseId}\n${nvr}\n${id}`;
    if (this.done.has(key)) return;
    this.done.add(key);
    if (this.done.size > 10_000) this.done.clear();
    const gw = await getDevice(db, nvr);
    if (!gw?.apiUrl) return;
    const base = gw.apiUrl.replace(/\/+$/, '');
    const enc = encodeURIComponent(id);
    const r = await (this.deps.fetch ?? fetch)(`${base}/api/events/${enc}/snapshot.jpg`, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!r.ok) throw new Error(`snapshot of Frigate event ${id}: HTTP ${r.status}`);
    const bytes = Buffer.from(await r.arrayBuffer());
    if (bytes.length > MAX_SNAPSHOT_BYTES) throw new Error(`snapshot of Frigate event ${id} larger than 5 MiB`);
    await insertEvidence(db, {
      caseId,
      kind: 'snapshot',
      source: `frigate:${nvr}/${id}`,
      mime: r.headers.get('content-type')?.split(';')[0] || 'image/jpeg',
      bytes,
    });
    if (a.hasClip === true)
      await insertEvidence(db, {
        caseId,
        kind: 'clip_link',
        source: `frigate:${nvr}/${id}`,
        mime: 'text/uri-list',
        bytes: Buffer.from(`${base}/api/events/${enc}/clip.mp4\r\n`),
      });
  }
}
