import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { longestGap } from './measure.js';

// The write-availability probe: POST /write through the portable IP every ~5 ms, each
// request with a short timeout, one after another; every acknowledged write is kept
// (its unique note) so the bench can check it survived on the new primary.

export interface Ack {
  note: string;
  id: number;
  host: string;
  /** performance.now() when the acknowledgement arrived. */
  at: number;
}

export interface WriterResult {
  acks: Ack[];
  attempts: number;
  failures: number;
  longestGapMs: number;
  /** performance.now() of the last commit before the longest gap. */
  gapFrom: number | null;
}

const PERIOD_MS = 5;
const REQUEST_TIMEOUT_MS = 250;

/** One POST; resolves with the app's answer or null (any error, non-200 or timeout). */
export async function postOnce(url: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ id: number; host: string } | null> {
  const body = (await requestJson(url, 'POST', timeoutMs)) as { id?: unknown; host: string } | null;
  return body && typeof body.id === 'number' ? (body as { id: number; host: string }) : null;
}

/** One HTTP request without keep-alive, bounded by `timeoutMs`: the JSON body of a 200, else null. */
function requestJson(url: string, method: 'GET' | 'POST', timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(null);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    const timer = setTimeout(() => req.destroy(), timeoutMs);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

/** A running writer; `stop()` ends the loop and returns what it saw. */
export class Writer {
  private stopped = false;
  private readonly acks: Ack[] = [];
  private attempts = 0;
  private failures = 0;
  private readonly loop: Promise<void>;

  constructor(private readonly baseUrl: string, private readonly prefix: string, private readonly maxMs = 180_000) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const end = performance.now() + this.maxMs;
    while (!this.stopped && performance.now() < end) {
      const started = performance.now();
      const note = `${this.prefix}-${this.attempts}`;
      this.attempts += 1;
      const answer = await postOnce(`${this.baseUrl}/write?note=${encodeURIComponent(note)}`);
      if (answer) this.acks.push({ note, id: answer.id, host: answer.host, at: performance.now() });
      else this.failures += 1;
      const wait = started + PERIOD_MS - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }

  async stop(): Promise<WriterResult> {
    this.stopped = true;
    await this.loop;
    const { gap, from } = longestGap(this.acks.map((a) => a.at));
    return { acks: this.acks, attempts: this.attempts, failures: this.failures, longestGapMs: gap, gapFrom: from };
  }
}

/** Polls GET /health at `url` until it answers 200 from `host` (or the deadline); ms since `since`, or null. */
export async function firstAnswerFrom(url: string, host: string, since: number, timeoutMs = 60_000): Promise<number | null> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    const started = performance.now();
    const answer = await getHealth(url);
    if (answer?.host === host) return performance.now() - since;
    const wait = started + PERIOD_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return null;
}

function getHealth(url: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ host: string } | null> {
  return requestJson(url, 'GET', timeoutMs) as Promise<{ host: string } | null>;
}
