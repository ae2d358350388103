import type { Action, ApplyResult, CheckResult, StepContext, VerifyResult } from '../actions/types.js';
import { sentenceOf } from '../error-sentence.js';
import { StepFailedError } from '../errors.js';
import type { StepSpec } from '../playbook/schema.js';
import type { StepLife } from './step-life.js';
import { since, sleep } from './duration.js';

const VERIFY_INTERVAL_MS = 200;

/** Apply then verify; verify retries until the step's timeout, then `retries` further apply+verify attempts. */
export async function applyAndVerify(
  life: StepLife,
  spec: StepSpec,
  action: Action,
  ctx: StepContext,
  params: Record<string, unknown>,
  check: CheckResult,
): Promise<ApplyResult> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt <= spec.retries; attempt += 1) {
    if (ctx.signal.aborted) break;
    let applied: ApplyResult = { summary: check.summary, outputs: check.outputs };
    if (action.apply) {
      const started = performance.now();
      try {
        applied = await action.apply(ctx, params, check);
      } catch (error) {
        lastError = error;
        life.applied(ctx.host, since(started), `failed: ${sentenceOf(error)}`);
        continue;
      }
      life.applied(ctx.host, since(started), applied.summary);
    }
    if (!action.verify) return applied;
    const verified = await verifyUntilTimeout(action, ctx, params, applied);
    life.verified(ctx.host, verified.ms, verified.result.summary);
    if (verified.result.ok) return { ...applied, outputs: { ...applied.outputs, ...verified.result.outputs } };
    lastError = new StepFailedError(`step ${spec.id} did not verify: ${verified.result.summary}`);
  }
  if (ctx.signal.aborted) throw new StepFailedError(`step ${spec.id} was interrupted`);
  throw lastError instanceof StepFailedError ? lastError : new StepFailedError(`step ${spec.id} failed: ${sentenceOf(lastError)}`, { cause: lastError });
}

async function verifyUntilTimeout(
  action: Action,
  ctx: StepContext,
  params: Record<string, unknown>,
  applied: ApplyResult,
): Promise<{ result: VerifyResult; ms: number }> {
  const started = performance.now();
  let result: VerifyResult = { ok: false, summary: 'not verified' };
  while (!ctx.signal.aborted) {
    try {
      result = await action.verify!(ctx, params, applied);
    } catch (error) {
      result = { ok: false, summary: sentenceOf(error) };
    }
    if (result.ok || since(started) + VERIFY_INTERVAL_MS > ctx.timeoutMs) break;
    await sleep(VERIFY_INTERVAL_MS, ctx.signal);
  }
  return { result, ms: since(started) };
}
