import type { z } from 'zod';
import type { Inventory, InventorySection } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';

export type CheckStatus = 'ready' | 'done' | 'blocked' | 'skipped';
export type Outputs = Record<string, string | number>;

/**
 * What a check found. `done` still carries the step's outputs. `finding` is what the
 * check learnt of the site that apply acts on without asking again (the engine hands
 * the run-phase check to apply; a plan-phase check never reaches apply).
 */
export interface CheckResult<F = unknown> {
  status: CheckStatus;
  summary: string;
  outputs?: Outputs;
  finding?: F;
}

/** What apply did. `record` is what verify needs to know of it (e.g. a sentinel it wrote). */
export interface ApplyResult<R = unknown> {
  summary: string;
  outputs?: Outputs;
  record?: R;
}

export interface VerifyResult {
  ok: boolean;
  summary: string;
  outputs?: Outputs;
}

/**
 * A step planned earlier in the same run, so a check can tell what will have happened by its
 * turn. The engine renders its `host` and `with` with the run's parameters and the inventory
 * (an output of a step is the placeholder `<steps.ID.NAME>`).
 */
export interface EarlierStep {
  id: string;
  action: string;
  /** Its rendered host; null when it has none, or its template does not render. */
  host: string | null;
  /** Its rendered `with`; a value whose template does not render is left out. */
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
  /** A dry run: its checks leave nothing behind on a host, not even a connection kept for later steps. */
  dryRun: boolean;
  /** Steps planned before this one in the plan phase (empty in the run phase). */
  earlier: EarlierStep[];
  /** The host the run makes the site's home (the command's --to or discovered target; null for a playbook run without one). */
  target: string | null;
  /** Step timeout: verify retries until it runs out. */
  timeoutMs: number;
  signal: AbortSignal;
  warn(message: string): void;
}

/** True for a value that stands for an output a later step will produce (`<steps.ID.NAME>`). */
export function isPlaceholder(value: unknown): value is string {
  return typeof value === 'string' && /^<steps\.[^<>]+>$/.test(value);
}

/**
 * One action of spec section 6: a read-only check, an apply, a verify. `F` is what the
 * check finds for apply, `R` what apply records for verify.
 */
export interface Action<P = Record<string, unknown>, F = unknown, R = unknown> {
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
  check(ctx: StepContext, params: P): Promise<CheckResult<F>>;
  apply?(ctx: StepContext, params: P, check: CheckResult<F>): Promise<ApplyResult<R>>;
  /** Called until ok or the step's timeout runs out. */
  verify?(ctx: StepContext, params: P, applied: ApplyResult<R>): Promise<VerifyResult>;
}

/** Helper for action modules: keeps the parameter type tied to the schema, and check, apply and verify to each other. */
export function defineAction<S extends z.ZodType, F = never, R = never>(action: Action<z.infer<S>, F, R> & { params: S }): Action<z.infer<S>, F, R> {
  return action;
}
