import type { EventBus } from '../engine/events.js';
import type { DataLoss } from '../site/data-loss.js';
import { startLoop, type ProbeLoop } from './loop.js';
import { nowMs, type ProbeRecord } from './request.js';
import type { ProbeSettings } from './settings.js';
import { StepTimeline } from './step-timeline.js';
import { FROM_CONTROL_MACHINE, summarize, type ProbeSummary } from './summary.js';
import type { Duplex } from 'node:stream';
import type { Transport } from '../transports/types.js';

/** How long the probe goes on after the last step (spec 10). */
export const PROBE_TAIL_MS = 1000;

/**
 * The probe of one run: reads (and writes, with a write URL) through the portable IP from
 * the control machine, on their own connections, never the run's SSH ones; and the steps'
 * times from the event stream, to tell which steps ran during an outage.
 */
export class ProbeSession {
  readonly timeline = new StepTimeline();
  private loops: ProbeLoop[] = [];
  private startedAt = 0;
  private endedAt: number | null = null;
  summary: ProbeSummary | null = null;
  private from = FROM_CONTROL_MACHINE;
  private connect: ((address: string, port: number) => Promise<Duplex>) | null = null;

  constructor(readonly settings: ProbeSettings, bus: EventBus) {
    this.timeline.attach(bus);
  }

  /** Starts the loops (at the start of the plan). */
  start(): void {
    this.startedAt = nowMs();
    const { url, writeUrl, intervalMs, timeoutMs } = this.settings;
    const options = this.connect ? { connect: this.connect } : {};
    this.loops = [startLoop(url, 'read', intervalMs, timeoutMs, options)];
    if (writeUrl) this.loops.push(startLoop(writeUrl, 'write', intervalMs, timeoutMs, options));
  }

  /**
   * When the control machine has no way to the site (behind a bastion), the requests go
   * through `host`'s SSH connection instead, each on a new forwarded channel (spec 10).
   */
  routeThrough(host: string, transport: () => Promise<Transport>): void {
    this.from = `${FROM_CONTROL_MACHINE}, through ${host}'s SSH connection`;
    this.connect = async (address, port) => (await transport()).forward(port, address);
  }

  get started(): number {
    return this.startedAt;
  }

  get ended(): number {
    return this.endedAt ?? nowMs();
  }

  /** Every request so far, reads and writes, in the order they started. */
  records(): ProbeRecord[] {
    return this.loops.flatMap((l) => l.records).sort((a, b) => a.t - b.t);
  }

  /**
   * Goes on for a second after the last step while `judge` asks the site for the data-loss
   * verdict, stops the loops (a request in flight ends within its timeout), and summarizes;
   * null when a hard stop summarized it meanwhile.
   */
  async finish(judge: () => Promise<DataLoss>): Promise<ProbeSummary | null> {
    const tail = new Promise((resolve) => setTimeout(resolve, PROBE_TAIL_MS));
    const [dataLoss] = await Promise.all([judge(), tail]);
    await Promise.all(this.loops.map((l) => l.stop()));
    if (this.summary) return null;
    this.endedAt = nowMs();
    return this.summarizeWith(dataLoss);
  }

  /** A summary at once, without waiting (a second Ctrl-C): the loops are told to stop, not awaited. */
  finishNow(dataLoss: DataLoss): ProbeSummary {
    for (const loop of this.loops) void loop.stop();
    this.endedAt ??= nowMs();
    return this.summarizeWith(dataLoss);
  }

  private summarizeWith(dataLoss: DataLoss): ProbeSummary {
    this.summary = summarize(this.settings, this.records(), this.startedAt, this.ended, (from, to) => this.timeline.busyDuring(from, to), dataLoss, this.from);
    return this.summary;
  }
}
