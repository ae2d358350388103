import { ConfigError } from '../errors.js';
import { readYamlSource, type YamlSource } from '../inventory/positions.js';
import { formatPath, problemsError, problemsFromZod, throwProblems } from '../inventory/problems.js';
import type { Inventory } from '../inventory/schema.js';
import type { ActionInfo } from './action-info.js';
import { requireSections } from '../inventory/sections.js';
import { checkLiteralHosts, checkSteps } from './check-steps.js';
import { HOST_KEYS } from './host-keys.js';
import { resolveParams } from './params.js';
import { DEFAULT_STEP_TIMEOUT_MS, playbookSchema, type Playbook, type PlaybookDocument, type StepSpec } from './schema.js';
import { referencesIn } from './templates.js';

export { parseSetOptions } from './params.js';
export type { ActionInfo } from './action-info.js';


export interface LoadPlaybookOptions {
  /** `--set NAME=VALUE` values; they override `params`. */
  set?: Record<string, string>;
  inventory: Inventory;
  actions: ReadonlyMap<string, ActionInfo>;
  /** Values filled by the command (failover: to, from, mode); undefined ones are ignored. */
  params?: Record<string, string | number | boolean | undefined>;
  /** `mirrorctl validate`: roles are not discovered, so a required parameter may lack a value. */
  validateOnly?: boolean;
}

const FORMAT_HINT = 'see the playbook format in README.md';

/**
 * A playbook read and checked once, before any host is contacted: every problem that does not
 * depend on what the command discovers (the target, the old primary) is found here.
 */
export interface CheckedPlaybook {
  file: string;
  source: YamlSource;
  doc: PlaybookDocument;
  set: Record<string, string>;
  uses: string[][];
}

/** Reads and validates a playbook against the inventory and the actions; any problem is a ConfigError. */
export async function readPlaybook(file: string, options: Omit<LoadPlaybookOptions, 'validateOnly'>): Promise<CheckedPlaybook> {
  const source = await readYamlSource(file, {
    what: 'playbook',
    missingHint: 'check the path, or run `mirrorctl playbooks` to list the known playbooks',
  });
  const parsed = playbookSchema.safeParse(source.data);
  if (!parsed.success) throw problemsError(source, problemsFromZod(parsed.error, source.data, playbookSchema), FORMAT_HINT);
  const doc = parsed.data;
  const set = options.set ?? {};
  // Values the command discovers later are not demanded here; what is known now (--set, values
  // given up front) is checked now, hosts included.
  const { values: params, problems: paramProblems } = resolveParams(doc.params, { filled: options.params, set, hostParams: hostParams(doc), allowMissing: true });
  const ctx = { source, params, declaredParams: doc.params, inventory: options.inventory, actions: options.actions };
  const { problems, uses } = checkSteps(doc.steps, ctx);
  throwProblems(source, [...paramProblems, ...problems], FORMAT_HINT);
  throwProblems(source, checkLiteralHosts(doc.steps, ctx), FORMAT_HINT);
  requireStepSections(doc, source, options);
  return { file, source, doc, set, uses };
}

/**
 * The playbook with its parameters: declared defaults ← the values the command chose (already
 * validated by it, e.g. `--to` by chooseTarget) ← --set. A required parameter still without a
 * value is a usage error here, unless `allowMissing` (validate, init).
 */
export function bindParams(checked: CheckedPlaybook, filled?: Record<string, string | number | boolean | undefined>, allowMissing = false): Playbook {
  const { source, doc } = checked;
  const { values: params, problems } = resolveParams(doc.params, { filled, set: checked.set, hostParams: hostParams(doc), allowMissing });
  throwProblems(source, problems, FORMAT_HINT);
  return {
    file: checked.file,
    name: doc.name,
    summary: doc.summary,
    params,
    steps: doc.steps.map((step, i): StepSpec => ({
      id: step.id,
      action: step.action,
      name: step.name ?? null,
      host: step.host ?? null,
      with: step.with ?? {},
      when: step.when ?? {},
      optional: step.optional ?? false,
      ignoreErrors: step.ignore_errors ?? false,
      timeoutMs: parseDuration(step.timeout),
      retries: step.retries ?? 0,
      uses: checked.uses[i] ?? [],
      line: source.lineOf(['steps', i]),
    })),
  };
}

/** readPlaybook then bindParams, for callers that know every value up front (validate, init, tests). */
export async function loadPlaybook(file: string, options: LoadPlaybookOptions): Promise<Playbook> {
  return bindParams(await readPlaybook(file, options), options.params, options.validateOnly === true);
}

// Names the first inventory section a step's action needs and the inventory lacks (with where the step is).
function requireStepSections(doc: PlaybookDocument, source: YamlSource, options: LoadPlaybookOptions): void {
  doc.steps.forEach((step, i) => {
    const needs = options.actions.get(step.action)?.needs ?? [];
    try {
      requireSections(options.inventory, needs, `step ${step.id} (${step.action})`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const where = `${source.file}:${source.lineOf(['steps', i, 'action'])} ${formatPath(['steps', i, 'action'])}`;
      throw new ConfigError(`${error.message} (${where})`, { hint: error.hint });
    }
  });
}

// Parameters that steps use as host names, for the "--set to=HOST" wording.
function hostParams(doc: PlaybookDocument): Set<string> {
  const names = new Set<string>();
  for (const step of doc.steps) {
    const hostish = [step.host, ...HOST_KEYS.map((key) => step.with?.[key])];
    for (const value of hostish) {
      try {
        for (const ref of referencesIn(value)) if (ref.startsWith('params.')) names.add(ref.slice(7));
      } catch {
        // malformed templates are reported by checkSteps
      }
    }
  }
  return names;
}

// `30s`, `500ms`, `2m`, `1500` or a number (milliseconds); the default when absent.
export function parseDuration(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_STEP_TIMEOUT_MS;
  if (typeof value === 'number') return value;
  const match = /^(\d+)(ms|s|m)?$/.exec(value.trim());
  if (!match) return DEFAULT_STEP_TIMEOUT_MS; // the schema already refused it
  const factor = match[2] === 'm' ? 60_000 : match[2] === 's' ? 1000 : 1;
  return Number(match[1]) * factor;
}
