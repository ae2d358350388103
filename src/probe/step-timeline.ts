import type { EventBus, StepOutcome } from '../engine/events.js';
import { nowMs } from './request.js';

/** One step on the probe's clock (epoch ms): when it ran and where its apply and verify ran. */
export interface StepSpan {
  id: string;
  action: string;
  host: string | null;
  start: number;
  end: number;
  /** null: the step never ran (the plan stopped the run, or the run stopped first). */
  outcome: StepOutcome | null;
  /** The plan's answer, for steps that never ran. */
  planned: string | null;
  /** When its apply and its verify ran. */
  busy: Array<{ from: number; to: number }>;
}

/** Follows the event stream and keeps every step's times, read on the same clock as the probe's requests. */
export class StepTimeline {
  private readonly spans = new Map<string, StepSpan>();

  /** Subscribes to the bus: events are emitted as they happen, so the time of receipt is the event's time. */
  attach(bus: EventBus): this {
    bus.on((event) => {
      const at = nowMs();
      if (event.event === 'step.check') {
        const span = this.span(event.step, event.action, at - event.ms, at);
        span.host = event.host ?? span.host;
        if (event.phase === 'plan') {
          span.planned = event.status;
          span.outcome = event.status === 'blocked' ? 'blocked' : null;
        } else {
          span.start = at - event.ms;
          span.end = at;
        }
      } else if (event.event === 'step.apply' || event.event === 'step.verify') {
        const span = this.span(event.step, '', at - event.ms, at);
        span.busy.push({ from: at - event.ms, to: at });
      } else if (event.event === 'step.end') {
        const span = this.span(event.step, '', at - event.ms, at);
        span.start = at - event.ms;
        span.end = at;
        span.outcome = event.outcome;
      }
    });
    return this;
  }

  /** The steps in the order they were first seen (the plan's order). */
  steps(): StepSpan[] {
    return [...this.spans.values()];
  }

  /** Ids of the steps whose apply or verify overlapped [from, to]. */
  busyDuring(from: number, to: number): string[] {
    return this.steps()
      .filter((s) => s.busy.some((b) => b.from <= to && b.to >= from))
      .map((s) => s.id);
  }

  /** The step's entry, created on first sight. */
  private span(id: string, action: string, start: number, end: number): StepSpan {
    let span = this.spans.get(id);
    if (!span) {
      span = { id, action, host: null, start, end, outcome: null, planned: null, busy: [] };
      this.spans.set(id, span);
    }
    if (action) span.action = action;
    return span;
  }
}
