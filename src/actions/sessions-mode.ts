import { z } from 'zod';
import { StepFailedError } from '../errors.js';
import { findKey, replaceValue } from '../site/ini-line.js';
import { readRemoteFile, replaceRemoteFile, sha256 as sha256Of } from '../site/remote-file.js';
import { firstLine, stepHost } from './host-transport.js';
import { defineAction, type StepContext } from './types.js';

/** Switches the app's session storage between read-write (database) and read-only mode. */
export const sessionsMode = defineAction({
  name: 'sessions.mode',
  params: z.object({ mode: z.enum(['read-only', 'read-write']) }).strict(),
  outputs: ['previous'],
  needs: ['sessions'],
  needsHost: true,
  changes: true,
  async check(ctx, p) {
    const { file, key, wanted } = settings(ctx, p.mode);
    const current = await readRemoteFile(await stepHost(ctx), file, ctx.timeoutMs);
    if (!current) return { status: 'blocked', summary: `${file} is missing on ${ctx.host}` };
    const line = findKey(current.text, key);
    if (line.found === 'none') return { status: 'blocked', summary: `${file} on ${ctx.host} has no uncommented \`${key} =\` line` };
    if (line.found === 'many') return { status: 'blocked', summary: `${file} on ${ctx.host} sets \`${key}\` more than once (lines ${line.lines.join(', ')})` };
    const outputs = { previous: modeOf(ctx, line.value) };
    if (line.value === wanted) return { status: 'done', summary: `${key} is already ${wanted} (${p.mode})`, outputs };
    if (!current.writable) return { status: 'blocked', summary: `${file} on ${ctx.host} is not writable` };
    return { status: 'ready', summary: `${key}: ${line.value} → ${wanted} (${p.mode})`, outputs };
  },
  async apply(ctx, p) {
    const { file, key, wanted, reload } = settings(ctx, p.mode);
    const host = await stepHost(ctx);
    const before = await readRemoteFile(host, file, ctx.timeoutMs);
    const line = before ? findKey(before.text, key) : { found: 'none' as const };
    if (!before || line.found !== 'one') throw new StepFailedError(`${file} on ${ctx.host} changed since the check`);
    const after = replaceValue(before.text, line.index, wanted);
    await replaceRemoteFile(host, file, after, before.sha256, ctx.timeoutMs);
    if (reload) {
      const result = await host.exec(reload, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
      if (result.exitCode !== 0) {
        await replaceRemoteFile(host, file, before.text, sha256Of(after), ctx.timeoutMs);
        throw new StepFailedError(`reload \`${reload}\` failed on ${ctx.host} (${firstLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`}); ${file} was put back as it was`);
      }
    }
    return { summary: `${key} = ${wanted}${reload ? ', reloaded' : ''}`, outputs: { previous: modeOf(ctx, line.value) } };
  },
  async verify(ctx, p) {
    const { file, key, wanted } = settings(ctx, p.mode);
    const now = await readRemoteFile(await stepHost(ctx), file, ctx.timeoutMs);
    const line = now ? findKey(now.text, key) : { found: 'none' as const };
    const ok = line.found === 'one' && line.value === wanted;
    return { ok, summary: ok ? `${file} says ${key} = ${wanted}` : `${file} does not say ${key} = ${wanted}` };
  },
});

function settings(ctx: StepContext, mode: 'read-only' | 'read-write') {
  const s = ctx.inventory.doc.sessions!;
  return { file: s.file, key: s.key, wanted: mode === 'read-only' ? s.read_only : s.read_write, reload: s.reload };
}

function modeOf(ctx: StepContext, value: string): string {
  const s = ctx.inventory.doc.sessions!;
  return value === s.read_only ? 'read-only' : value === s.read_write ? 'read-write' : value;
}

