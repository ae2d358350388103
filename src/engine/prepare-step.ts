import { ConfigError, HostTrustError, HostUnreachableError } from '../errors.js';
import type { Action } from '../actions/types.js';
import { isPlaceholder } from '../actions/types.js';
import type { StepSpec } from '../playbook/schema.js';
import { SkippedDependency, evaluateWhen, render, type TemplateScope } from '../playbook/templates.js';
import type { HostPool } from '../transports/pool.js';
import type { Inventory } from '../inventory/schema.js';
import { renderWith } from './render-command.js';

export type PreparedStep =
  | { go: false; summary: string; warning?: string }
  | { go: true; host: string | null; params: Record<string, unknown>; hosts: string[] };

/** Renders a step's templates, evaluates `when`, and skips optional steps whose hosts do not answer. */
export async function prepareStep(
  spec: StepSpec,
  action: Action,
  scope: TemplateScope,
  inventory: Inventory,
  pool: HostPool,
): Promise<PreparedStep> {
  let host: string | null;
  let raw: unknown;
  try {
    if (!evaluateWhen(spec.when, scope)) return { go: false, summary: `not run: ${describeWhen(spec.when)}` };
    host = spec.host === null ? null : String(render(spec.host, scope));
    raw = renderWith(spec.with, action.commandParams ?? [], scope, render);
  } catch (error) {
    if (error instanceof SkippedDependency) return { go: false, summary: `skipped: uses an output of skipped step ${error.stepId}` };
    throw error;
  }
  const parsed = action.params.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`step ${spec.id} (${spec.action}) with.${issue.path.join('.') || '?'}: ${issue.message}`, {
      hint: `fix the step in the playbook${spec.line ? ` (line ${spec.line})` : ''}`,
    });
  }
  const params = parsed.data as Record<string, unknown>;
  const hosts = [host, ...(action.hostsIn?.(params, inventory) ?? [])].filter(
    (h): h is string => typeof h === 'string' && !isPlaceholder(h),
  );
  if (spec.optional) {
    const down = await unreachableOf(hosts, pool);
    if (down.length > 0) {
      const warning = `${down.join(', ')} does not answer: optional step ${spec.id} skipped`;
      return { go: false, summary: `skipped: ${down.join(', ')} does not answer`, warning };
    }
  }
  return { go: true, host, params, hosts };
}

/** Hosts of the list that do not answer; a host that answers but is not trusted throws. */
async function unreachableOf(hosts: string[], pool: HostPool): Promise<string[]> {
  const results = await Promise.all(
    [...new Set(hosts)].map(async (name) => {
      try {
        await pool.get(name);
        return null;
      } catch (error) {
        if (error instanceof HostUnreachableError) return name;
        if (error instanceof HostTrustError) throw error;
        throw error;
      }
    }),
  );
  return results.filter((h): h is string => h !== null);
}

function describeWhen(when: Record<string, unknown>): string {
  return Object.entries(when)
    .map(([ref, value]) => `${ref} is not ${String(value)}`)
    .join(' or ');
}
