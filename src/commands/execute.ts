import { EventBus } from '../engine/events.js';
import type { RunContext } from '../engine/context.js';
import { Interrupt } from '../engine/interrupt.js';
import { executeRun } from '../engine/run.js';
import { newRunId } from '../engine/run-id.js';
import { preflightSteps } from '../engine/preflight-steps.js';
import { resolveStateDir } from '../engine/state-dir.js';
import type { Action } from '../actions/types.js';
import type { Inventory } from '../inventory/schema.js';
import type { Playbook } from '../playbook/schema.js';
import { ConfigError } from '../errors.js';
import { writeErrorLine } from '../reporters/error-line.js';
import { HostPool, type TransportFactory } from '../transports/pool.js';
import { attachReporters } from './reporters.js';
import { terminalPrompter } from './prompter.js';
import type { RunOptions } from './options.js';
import type { Prompter } from '../engine/context.js';

export interface PlaybookRun {
  inventory: Inventory;
  /** Read once and bound to the command's values by the command. */
  playbook: Playbook;
  actions: ReadonlyMap<string, Action>;
  /** The host the run makes the site's home (preflight checks block there instead of skipping). */
  target: string | null;
  options: RunOptions;
  commandLine: string;
  resumeCommand?: string | null;
  whenLost?: ((host: string) => string | null) | null;
  /** Injected in tests: a scripted prompter, another transport factory, an existing pool. */
  prompter?: Prompter;
  pool?: HostPool;
  factory?: TransportFactory;
}

/** Wires reporters, runs plan → lock → confirm → steps; returns the exit code. */
export async function executePlaybook(request: PlaybookRun): Promise<number> {
  const { inventory, options, playbook, actions, target } = request;
  const steps = [...preflightSteps(inventory, target), ...playbook.steps];
  if (options.fromStep && !steps.some((s) => s.id === options.fromStep)) {
    throw new ConfigError(`--from-step ${options.fromStep}: no such step in ${playbook.name}`, { hint: `steps are: ${steps.map((s) => s.id).join(', ')}` });
  }
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  if (options.step && !interactive && !request.prompter) {
    throw new ConfigError('--step asks before each step and no terminal can answer', { hint: 'run it from a terminal, or drop --step' });
  }
  const stateDir = resolveStateDir(options.stateDir);
  const bus = new EventBus();
  bus.runId = newRunId();
  const rehearsal = await startRehearsal(bus, inventory, options);
  await attachReporters(bus, options, stateDir);

  const interrupt = new Interrupt().install();
  const promptAbort = new AbortController();
  interrupt.onHit((count) => {
    promptAbort.abort();
    if (count === 1) bus.notice({ level: 'warn', message: 'interrupted: finishing the current step, then stopping (Ctrl-C again to stop now)' });
    else if (count === 2) bus.notice({ level: 'warn', message: 'interrupted again: stopping now (the running command is killed, the site locks released)' });
  });
  const pool = request.pool ?? new HostPool(inventory, request.factory);
  if (rehearsal) {
    // Behind a bastion the control machine cannot reach the site: probe through the target's SSH connection.
    const { httpCarrier } = await import('../site/http-carrier.js');
    const via = await httpCarrier(inventory, target, rehearsal.probe.settings.url);
    if (via) rehearsal.probe.routeThrough(via, () => pool.get(via));
  }
  const run: RunContext = {
    inventory,
    playbook,
    steps,
    actions,
    pool,
    bus,
    commandLine: request.commandLine,
    stateDir,
    dryRun: Boolean(options.dryRun),
    yes: Boolean(options.yes),
    confirmEachStep: Boolean(options.step),
    fromStep: options.fromStep ?? null,
    interactive,
    prompter: request.prompter ?? terminalPrompter(promptAbort.signal),
    resumeCommand: request.resumeCommand ?? null,
    whenLost: request.whenLost ?? null,
    target,
    signal: interrupt.controller.signal,
    probe: rehearsal?.probe ?? null,
  };
  try {
    const result = await executeRun(run, interrupt).finally(() => rehearsal?.writeReport());
    if (result.message) writeErrorLine(result.outcome === 'failed' ? 'error' : result.outcome, result.hint ? `${result.message}; ${result.hint}` : result.message);
    return result.exitCode;
  } finally {
    interrupt.uninstall();
    if (!request.pool) await pool.closeAll();
  }
}

/** --probe / --report: the probe (its URL checked before anything runs, exit 2) and the report's writer. */
async function startRehearsal(bus: EventBus, inventory: Inventory, options: RunOptions) {
  if (!options.probe && !options.report) return null;
  const { probeSettings } = await import('../probe/settings.js');
  const settings = probeSettings(inventory);
  const { ProbeSession } = await import('../probe/session.js');
  const probe = new ProbeSession(settings, bus);
  if (!options.report) return { probe, writeReport: async () => undefined };
  const { attachReport } = await import('../report/attach.js');
  return { probe, writeReport: await attachReport(bus, probe, options.report) };
}

