// The event stream of spec section 4. Every reporter (human, JSON, JUnit,
// journal) subscribes to it; nothing else prints during a run.
import { processSecrets, type SecretMask } from '../reporters/mask.js';
import type { ProbeSummary } from '../probe/summary.js';

export type StepOutcome = 'changed' | 'unchanged' | 'skipped' | 'failed' | 'blocked';
export type RunOutcome = 'succeeded' | 'planned' | 'failed' | 'blocked' | 'refused' | 'locked' | 'aborted';

interface Base {
  run_id: string | null;
  ts: string;
}

export type RunEvent =
  | (Base & { event: 'run.start'; playbook: string; site: string; dry_run: boolean; params: Record<string, unknown> })
  | (Base & {
      event: 'step.check';
      step: string;
      action: string;
      host: string | null;
      phase: 'plan' | 'run';
      status: 'ready' | 'done' | 'blocked' | 'skipped';
      summary: string;
      ms: number;
    })
  | (Base & { event: 'step.apply' | 'step.verify'; step: string; host: string | null; ms: number; summary: string })
  | (Base & { event: 'step.end'; step: string; outcome: StepOutcome; ms: number; error?: string })
  | (Base & { event: 'probe.summary' } & ProbeSummary)
  | (Base & { event: 'run.end'; outcome: RunOutcome; exit_code: number; ms: number; changed: string[] })
  | (Base & { event: 'error'; exit_code: number; message: string });

/** Messages for humans only (warnings, prompts' context): never on the JSON stream. */
export interface Notice {
  level: 'warn' | 'info';
  message: string;
  step?: string;
}

export type EventListener = (event: RunEvent) => void;
export type NoticeListener = (notice: Notice) => void;

type Distribute<T> = T extends unknown ? Omit<T, 'ts' | 'run_id'> : never;
export type EventInput = Distribute<RunEvent>;

/** The one place events are created; every listener sees them in order. */
export class EventBus {
  private readonly listeners: EventListener[] = [];
  private readonly noticeListeners: NoticeListener[] = [];
  runId: string | null = null;
  private readonly told = new Set<string>();

  /** `secrets`: values that must never appear in output, events or journals (read from *_env variables). */
  constructor(private readonly secrets: SecretMask = processSecrets) {}

  addSecret(value: string | undefined): void {
    this.secrets.add(value);
  }

  /** Replaces every known secret in a string with ***. */
  redact(text: string): string {
    return this.secrets.redact(text);
  }

  on(listener: EventListener): void {
    this.listeners.push(listener);
  }

  onNotice(listener: NoticeListener): void {
    this.noticeListeners.push(listener);
  }

  emit(input: EventInput): RunEvent {
    const { event: name, ...rest } = input;
    const event = this.scrub({ event: name, run_id: this.runId, ts: new Date().toISOString(), ...rest }) as RunEvent;
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Tells humans something once per run (the plan and the run may find the same thing twice). */
  notice(notice: Notice): void {
    const clean = { ...notice, message: this.redact(notice.message) };
    if (this.told.has(clean.message)) return;
    this.told.add(clean.message);
    for (const listener of this.noticeListeners) listener(clean);
  }

  private scrub(value: unknown): unknown {
    if (this.secrets.size === 0) return value;
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((v) => this.scrub(v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.scrub(v)]));
    return value;
  }
}
