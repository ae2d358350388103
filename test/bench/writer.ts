import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeLoop } from '../../src/probe/loop.js';
import { longestOutage, nowMs, probeRequest, startLoop } from './product.js';

// The write-availability probe of the bench: the product's own probe loop (src/probe) POSTs
// /write?note=… through the portable IP every ~5 ms, one request at a time on a new
// connection each; its outage figure is the product's (the longest run of failed writes,
// from the last acknowledgement before it to the first after it). The bench keeps its own
// check on top: each acknowledged write's unique note, to find it on the new primary.

export interface Ack {
  note: string;
  id: number;
  host: string;
  /** Epoch ms when the acknowledgement arrived. */
  at: number;
}

export interface WriterResult {
  acks: Ack[];
  attempts: number;
  failures: number;
  /** The product probe's longest write outage (0 when no write failed). */
  longestGapMs: number;
  /** Epoch ms of the last acknowledgement before the longest outage. */
  gapFrom: number | null;
}

const PERIOD_MS = 5;
const REQUEST_TIMEOUT_MS = 250;

/** A running writer; `stop()` ends the loop and returns what it saw. */
export class Writer {
  private readonly loop: ProbeLoop;
  private readonly notes: string[] = [];
  private readonly started = nowMs();
  private readonly deadline: NodeJS.Timeout;

  constructor(baseUrl: string, prefix: string, maxMs = 180_000) {
    const noteOf = (n: number) => {
      this.notes[n] = `${prefix}-${n}`;
      return `${baseUrl}/write?note=${encodeURIComponent(this.notes[n]!)}`;
    };
    this.loop = startLoop(noteOf, 'write', PERIOD_MS, REQUEST_TIMEOUT_MS, { keepBody: true });
    this.deadline = setTimeout(() => void this.loop.stop(), maxMs);
  }

  async stop(): Promise<WriterResult> {
    clearTimeout(this.deadline);
    await this.loop.stop();
    const ended = nowMs();
    const records = this.loop.records;
    const acks: Ack[] = [];
    records.forEach((record, n) => {
      const body = record.body as { id?: unknown; host?: unknown } | undefined;
      if (record.ok && body && typeof body.id === 'number') acks.push({ note: this.notes[n]!, id: body.id, host: String(body.host), at: record.t + record.ms });
    });
    const outage = longestOutage(records, this.started, ended);
    return {
      acks,
      attempts: records.length,
      failures: records.length - acks.length,
      longestGapMs: outage ? outage.to - outage.from : 0,
      gapFrom: outage ? outage.from : null,
    };
  }
}

/** Polls GET /health at `url` (the product probe's request) until it answers 200 from `host`; ms since `since` (performance.now()), or null. */
export async function firstAnswerFrom(url: string, host: string, since: number, timeoutMs = 60_000): Promise<number | null> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    const started = performance.now();
    const answer = await probeRequest(url, 'read', REQUEST_TIMEOUT_MS, { keepBody: true });
    if (answer.ok && (answer.body as { host?: unknown } | null)?.host === host) return performance.now() - since;
    const wait = started + PERIOD_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return null;
}
