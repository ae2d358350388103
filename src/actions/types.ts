import type { z } from 'zod';
import type { Inventory, InventorySection } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';

export type CheckStatus = 'ready' | 'done' | 'blocked' | 'skipped';
export type Outputs = Record<string, string | number>;

/** What a check found. `done` still carries the step's outputs. */
export interface CheckResult {
  status: CheckStatus;
  summary: string;
  outputs?: Outputs;
}

export interface ApplyResult {
  summary: string;
  outputs?: Outputs;
}

export interface VerifyResult {
  ok: boolean;
  summary: string;
  outputs?: Outputs;
}

/** A step planned earlier in the same run, so a check can tell what will have happened by its turn. */
export interface EarlierStep {
  id: string;
  action: string;
  host: string | null;
  params: Record<string, unknown>;
}

/** Everything an action may use. Actions never print, never read CLI options, never know about dry runs. */
export interface StepContext {
  stepId: string;
  /** The step's rendered `host`, or null for actions that name hosts in `with`. */
  host: string | null;
  inventory: Inventory;
  hosts: HostPool;
  /** `plan`: the site as it is, before any step ran. `run`: right before this step's apply. */
  phase: 'plan' | 'run';
  /** Steps planned before this one in the plan phase (empty in the run phase). */
  earlier: EarlierStep[];
  /** The run's parameters (to, from, mode, …). */
  runParams: Record<string, unknown>;
  /** Step timeout: verify retries until it runs out. */
  timeoutMs: number;
  signal: AbortSignal;
  warn(message: string): void;
}

/** True for a value that stands for an output a later step will produce (`<steps.ID.NAME>`). */
export function isPlaceholder(value: unknown): value is string {
  return typeof value === 'string' && /^<steps\.[^<>]+>$/.test(value);
}

/** One action of spec section 6: a read-only check, an apply, a verify. */
export interface Action<P = Record<string, unknown>> {
  name: string;
  /** Validates and defaults the step's `with`. */
  params: z.ZodType<P>;
  outputs: readonly string[];
  /** Inventory sections the action needs (validate names the missing one). */
  needs: readonly InventorySection[];
  /** Keys of `with` that hold shell commands: template values are shell-quoted into them. */
  commandParams?: readonly string[];
  /** Whether the step needs a `host`. */
  needsHost: boolean;
  /** Hosts in `with` that the step touches besides its `host` (for optional-step reachability and locks). */
  hostsIn?(params: P, inventory: Inventory): string[];
  /** False for steps that only look (assert, http.expect): they never need confirmation. */
  changes: boolean;
  /** True for actions whose check never answers `done` (a flush, an assertion): not repeated before `--from-step`. */
  neverDone?: boolean;
  check(ctx: StepContext, params: P): Promise<CheckResult>;
  apply?(ctx: StepContext, params: P, check: CheckResult): Promise<ApplyResult>;
  /** Called until ok or the step's timeout runs out. */
  verify?(ctx: StepContext, params: P, applied: ApplyResult): Promise<VerifyResult>;
}

/** Helper for action modules: keeps the parameter type tied to the schema. */
export function defineAction<S extends z.ZodType>(action: Action<z.infer<S>> & { params: S }): Action<z.infer<S>> {
  return action;
}
