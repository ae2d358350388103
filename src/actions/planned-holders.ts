import type { StepContext } from './types.js';

/**
 * In the plan, who will hold the address when this step's turn comes: earlier ip.release,
 * ip.claim and ip.move steps of the same run applied to who holds it now. `after` names
 * the last earlier step that changes it.
 */
export function plannedHolders(ctx: StepContext, holders: string[]): { holders: string[]; after: string | null } {
  if (ctx.phase !== 'plan') return { holders, after: null };
  let now = [...holders];
  let after: string | null = null;
  for (const step of ctx.earlier) {
    const host = step.action === 'ip.move' ? hostName(step.params['to']) : step.host;
    if (host === null) continue;
    if (step.action === 'ip.release' && now.includes(host)) now = now.filter((h) => h !== host);
    else if ((step.action === 'ip.claim' || step.action === 'ip.move') && (now.length !== 1 || now[0] !== host)) now = [host];
    else continue;
    after = step.id;
  }
  return { holders: now, after };
}

/** A rendered host name, or null for anything else. */
function hostName(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
