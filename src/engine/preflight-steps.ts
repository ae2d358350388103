import type { Inventory } from '../inventory/schema.js';
import type { StepSpec } from '../playbook/schema.js';

/** Inventory `checks` become steps preflight-1, preflight-2, … at the start of every plan. */
export function preflightSteps(inventory: Inventory, target: string | null): StepSpec[] {
  const checks = inventory.doc.checks ?? [];
  const defaultHosts = inventory.doc.database?.hosts ?? [...inventory.hosts.keys()];
  return checks.map((check, i) => ({
    id: `preflight-${i + 1}`,
    action: 'preflight',
    name: check.name,
    host: null,
    with: { name: check.name, run: check.run, hosts: check.hosts ?? defaultHosts, target },
    when: {},
    optional: false,
    ignoreErrors: false,
    timeoutMs: 30_000,
    retries: 0,
    uses: [],
    line: inventory.lineOf(['checks', i]),
  }));
}
