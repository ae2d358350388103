import { z } from 'zod';
import { StepFailedError } from '../errors.js';
import { findKey, replaceValue } from '../site/ini-line.js';
import { readRemoteFile, rewriteAndReload, sha256, type RemoteFile } from '../site/remote-file.js';
import { CommandError } from '../transports/command-error.js';
import { lastLine } from '../transports/last-line.js';
import { stepTransport } from './step-host.js';
import { takeFinding } from './take-finding.js';
import { defineAction, type CheckResult, type StepContext } from './types.js';

/** Switches the app's session storage between read-write (database) and read-only mode. */
export const sessionsMode = defineAction({
  name: 'sessions.mode',
  params: z.object({ mode: z.enum(['read-only', 'read-write']) }).strict(),
  outputs: ['previous'],
  needs: ['sessions'],
  needsHost: true,
  changes: true,
  async check(ctx, p): Promise<CheckResult<ReadFinding>> {
    const { file, key, wanted } = settings(ctx, p.mode);
    const current = await readRemoteFile(await stepTransport(ctx), file, ctx.timeoutMs);
    if (!current) return { status: 'blocked', summary: `${file} is missing on ${ctx.host}` };
    const line = findKey(current.text, key);
    if (line.found === 'none') return { status: 'blocked', summary: `${file} on ${ctx.host} has no uncommented \`${key} =\` line` };
    if (line.found === 'many') return { status: 'blocked', summary: `${file} on ${ctx.host} sets \`${key}\` more than once (lines ${line.lines.join(', ')})` };
    const outputs = { previous: modeOf(ctx, line.value) };
    if (line.value === wanted) return { status: 'done', summary: `${key} is already ${wanted} (${p.mode})`, outputs };
    if (!current.writable) return { status: 'blocked', summary: `${file} on ${ctx.host} is not writable` };
    // The run-phase check comes right before apply: apply rewrites what it read (guarded by its checksum).
    const finding = { file: current, index: line.index, value: line.value };
    return { status: 'ready', summary: `${key}: ${line.value} → ${wanted} (${p.mode})`, outputs, finding };
  },
  async apply(ctx, p, check) {
    const { file, key, wanted, reload } = settings(ctx, p.mode);
    const host = await stepTransport(ctx);
    const read = takeFinding(check) ?? (await readAgain(ctx, file, key));
    const after = replaceValue(read.file.text, read.index, wanted);
    // One round trip: atomic rewrite, then the reload; a failed reload puts the previous file back.
    const result = await host.exec(rewriteAndReload(file, read.file.sha256, sha256(after), reload), { timeoutMs: ctx.timeoutMs, input: after, signal: ctx.signal });
    if (result.exitCode === 4) {
      throw new StepFailedError(`reload \`${reload}\` failed on ${ctx.host} (${lastLine(result.stderr) || 'no message'}); ${file} was put back as it was`);
    }
    if (result.exitCode !== 0) throw new CommandError(result);
    return { summary: `${key} = ${wanted}${reload ? ', reloaded' : ''}`, outputs: { previous: modeOf(ctx, read.value) } };
  },
  async verify(ctx, p) {
    const { file, key, wanted } = settings(ctx, p.mode);
    const now = await readRemoteFile(await stepTransport(ctx), file, ctx.timeoutMs);
    const line = now ? findKey(now.text, key) : { found: 'none' as const };
    const ok = line.found === 'one' && line.value === wanted;
    return { ok, summary: ok ? `${file} says ${key} = ${wanted}` : `${file} does not say ${key} = ${wanted}` };
  },
});

/** The file as the check read it (with its checksum) and its one line for the key: apply rewrites that. */
interface ReadFinding {
  file: RemoteFile;
  index: number;
  value: string;
}

async function readAgain(ctx: StepContext, file: string, key: string): Promise<ReadFinding> {
  const current = await readRemoteFile(await stepTransport(ctx), file, ctx.timeoutMs);
  const line = current ? findKey(current.text, key) : { found: 'none' as const };
  if (!current || line.found !== 'one') throw new StepFailedError(`${file} on ${ctx.host} changed since the check`);
  return { file: current, index: line.index, value: line.value };
}

function settings(ctx: StepContext, mode: 'read-only' | 'read-write') {
  const s = ctx.inventory.doc.sessions!;
  return { file: s.file, key: s.key, wanted: mode === 'read-only' ? s.read_only : s.read_write, reload: s.reload };
}

function modeOf(ctx: StepContext, value: string): string {
  const s = ctx.inventory.doc.sessions!;
  return value === s.read_only ? 'read-only' : value === s.read_write ? 'read-write' : value;
}

