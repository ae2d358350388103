import type { CheckResult } from '../actions/types.js';
import type { StepSpec } from '../playbook/schema.js';
import { since } from './duration.js';
import type { EventBus, StepOutcome } from './events.js';

// A step's life in the apply phase as an explicit state machine (after listr2's task
// states), and the one place its events are emitted:
//
//   pending ─check─▶ checked ─apply─▶ applied ─verify─▶ verified
//      │                │                │                 │
//      └────────────────┴────────────────┴─────────────────┴─end─▶ changed | unchanged | skipped | blocked | failed
//
// `end` is final and happens once: a second Ctrl-C that ends the step from outside and the
// step's own ending cannot both record it.

export type StepState = 'pending' | 'checked' | 'applied' | 'verified' | StepOutcome;

const NEXT: Record<'check' | 'apply' | 'verify', readonly StepState[]> = {
  check: ['pending'],
  // retries apply again after a failed verify
  apply: ['checked', 'applied', 'verified'],
  verify: ['checked', 'applied', 'verified'],
};

export class StepLife {
  private current: StepState = 'pending';
  private readonly started = performance.now();

  constructor(
    private readonly bus: EventBus,
    private readonly spec: StepSpec,
  ) {}

  get state(): StepState {
    return this.current;
  }

  get ended(): boolean {
    return !['pending', 'checked', 'applied', 'verified'].includes(this.current);
  }

  /** The check right before the step runs (phase `run`). */
  checked(host: string | null, check: CheckResult): void {
    if (!this.move('check', 'checked')) return;
    this.bus.emit({ event: 'step.check', step: this.spec.id, action: this.spec.action, host, phase: 'run', status: check.status, summary: check.summary, ms: since(this.started) });
  }

  /** One apply attempt ended (its summary starts with "failed:" when it threw). */
  applied(host: string | null, ms: number, summary: string): void {
    if (!this.move('apply', 'applied')) return;
    this.bus.emit({ event: 'step.apply', step: this.spec.id, host, ms, summary });
  }

  /** Verify ended, ok or not (it retried until the step's timeout). */
  verified(host: string | null, ms: number, summary: string): void {
    if (!this.move('verify', 'verified')) return;
    this.bus.emit({ event: 'step.verify', step: this.spec.id, host, ms, summary });
  }

  /** The step's outcome: recorded once, whatever ends it first. */
  end(outcome: StepOutcome, error?: string): void {
    if (this.ended) return;
    this.current = outcome;
    this.bus.emit({ event: 'step.end', step: this.spec.id, outcome, ms: since(this.started), ...(error ? { error } : {}) });
  }

  /** False once the step has ended (a second Ctrl-C ended it while it still ran): nothing more is recorded. */
  private move(transition: keyof typeof NEXT, to: StepState): boolean {
    if (this.ended) return false;
    if (!NEXT[transition].includes(this.current)) throw new Error(`internal error: step ${this.spec.id} cannot ${transition} in state ${this.current}`);
    this.current = to;
    return true;
  }
}

/** The plan phase's check of a step (its own event; the step's life begins in the apply phase). */
export function emitPlannedCheck(bus: EventBus, spec: StepSpec, host: string | null, check: CheckResult, ms: number): void {
  bus.emit({ event: 'step.check', step: spec.id, action: spec.action, host, phase: 'plan', status: check.status, summary: check.summary, ms });
}
