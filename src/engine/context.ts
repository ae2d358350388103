import type { Action, EarlierStep, StepContext } from '../actions/types.js';
import type { Inventory } from '../inventory/schema.js';
import type { Playbook, StepSpec } from '../playbook/schema.js';
import type { HostPool } from '../transports/pool.js';
import type { EventBus } from './events.js';
import type { ProbeSession } from '../probe/session.js';

/** What one run shares between plan and apply: built once by the command, consumed by the engine. */
export interface RunContext {
  inventory: Inventory;
  playbook: Playbook;
  /** Preflight steps (inventory `checks`) followed by the playbook's steps. */
  steps: StepSpec[];
  actions: ReadonlyMap<string, Action>;
  pool: HostPool;
  bus: EventBus;
  /** The command line as the operator typed it (for locks and the resume hint). */
  commandLine: string;
  stateDir: string;
  dryRun: boolean;
  yes: boolean;
  confirmEachStep: boolean;
  fromStep: string | null;
  /** Whether a terminal can answer prompts. */
  interactive: boolean;
  prompter: Prompter;
  /** How to resume after a failure (printed by the CLI), e.g. "mirrorctl failover --to web2". */
  resumeCommand: string | null;
  /** What to do instead of resuming when a host stopped answering during the run (null: resume as usual). */
  whenLost: ((host: string) => string | null) | null;
  /** The host the run makes the site's home, chosen once by the command (preflight and actions read it here). */
  target: string | null;
  signal: AbortSignal;
  /** --probe / --report: what users see through the portable IP while the run plans and applies. */
  probe?: ProbeSession | null;
}

export interface Prompter {
  confirm(message: string): Promise<boolean>;
}

/** The context one action sees for one step in one phase. */
export function stepContext(
  run: RunContext,
  spec: StepSpec,
  host: string | null,
  phase: 'plan' | 'run',
  earlier: EarlierStep[],
  warn: (message: string) => void,
): StepContext {
  return {
    stepId: spec.id,
    host,
    inventory: run.inventory,
    hosts: run.pool,
    phase,
    dryRun: run.dryRun,
    earlier,
    target: run.target,
    timeoutMs: spec.timeoutMs,
    signal: run.signal,
    warn,
  };
}
