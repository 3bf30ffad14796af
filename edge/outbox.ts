/**
 * A durable outbox for a pole gateway: messages are appended to a log file (one JSON line each) and
 * fsync'd before they count as accepted; the offset of the last message the broker acknowledged (PUBACK)
 * is kept beside it. After a power cut or a broker outage, sending resumes at that offset, and the
 * platform's `(device, seq)` idempotency makes the overlap harmless (at-least-once, exactly-once effect).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface OutboxEntry {
  topic: string;
  payload: string;
}

export class Outbox {
  private fd: number;
  private readonly logPath: string;
  private readonly ackPath: string;
  private readonly seqPath: string;
  private entries: OutboxEntry[] = [];
  /** Index in `entries` of the first message not yet acknowledged. */
  private acked = 0;
  private seqs: Record<string, number>;
  private ackedAhead = new Set<number>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.logPath = path.join(dir, 'outbox.jsonl');
    this.ackPath = path.join(dir, 'outbox.ack');
    this.seqPath = path.join(dir, 'seq.json');
    if (existsSync(this.logPath)) {
      const text = readFileSync(this.logPath, 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          this.entries.push(JSON.parse(line) as OutboxEntry);
        } catch {
          break; // a torn last line from a power cut: everything before it is intact
        }
      }
    }
    this.acked = existsSync(this.ackPath)
      ? Math.min(Number(readFileSync(this.ackPath, 'utf8')) || 0, this.entries.length)
      : 0;
    this.seqs = existsSync(this.seqPath)
      ? (JSON.parse(readFileSync(this.seqPath, 'utf8')) as Record<string, number>)
      : {};
    // Sequence numbers must never repeat across restarts: resume past any seq already in the log.
    for (const e of this.entries) {
      const m = /^dev\/([^/]+)\//.exec(e.topic);
      const seq = (JSON.parse(e.payload) as { seq?: number }).seq;
      if (m && typeof seq === 'number') this.seqs[m[1]] = Math.max(this.seqs[m[1]] ?? 0, seq);
    }
    this.fd = openSync(this.logPath, 'a');
  }

  /** The next sequence number of a device (persisted with the message that carries it). */
  nextSeq(deviceId: string): number {
    const n = (this.seqs[deviceId] ?? 0) + 1;
    this.seqs[deviceId] = n;
    return n;
  }

  /** Append and fsync: once this returns, the message survives a crash. */
  append(entries: OutboxEntry[]): void {
    if (!entries.length) return;
    writeSync(this.fd, entries.map((e) => JSON.stringify(e) + '\n').join(''));
    fsyncSync(this.fd);
    this.entries.push(...entries);
    writeFileSync(this.seqPath, JSON.stringify(this.seqs));
  }

  /** Messages not yet acknowledged, oldest first. */
  pending(max = Infinity): { index: number; entry: OutboxEntry }[] {
    const out: { index: number; entry: OutboxEntry }[] = [];
    for (let i = this.acked; i < this.entries.length && out.length < max; i++)
      out.push({ index: i, entry: this.entries[i] });
    return out;
  }

  get pendingCount(): number {
    return this.entries.length - this.acked;
  }

  /**
   * The broker acknowledged message `index`. The persisted offset advances only over a contiguous run of
   * acknowledged messages, so an out-of-order PUBACK never marks an unacknowledged message as sent.
   */
  ack(index: number): void {
    if (index < this.acked) return;
    this.ackedAhead.add(index);
    const before = this.acked;
    while (this.ackedAhead.delete(this.acked)) this.acked++;
    if (this.acked === before) return;
    writeFileSync(this.ackPath, String(this.acked));
    // Compact once the acknowledged prefix is large: rewrite the log with the pending tail only.
    if (this.acked > 10_000 && this.acked > this.entries.length / 2) this.compact();
  }

  private compact(): void {
    const tail = this.entries.slice(this.acked);
    const tmp = this.logPath + '.tmp';
    writeFileSync(tmp, tail.map((e) => JSON.stringify(e) + '\n').join(''));
    closeSync(this.fd);
    renameSync(tmp, this.logPath);
    this.fd = openSync(this.logPath, 'a');
    this.entries = tail;
    this.ackedAhead = new Set([...this.ackedAhead].map((i) => i - this.acked).filter((i) => i >= 0));
    this.acked = 0;
    writeFileSync(this.ackPath, '0');
  }

  get sizeBytes(): number {
    return existsSync(this.logPath) ? statSync(this.logPath).size : 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}
