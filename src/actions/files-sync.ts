import { z } from 'zod';
import { StepFailedError } from '../errors.js';
import type { HostEntry } from '../inventory/schema.js';
import { describeCopy, missingDirs, plannedDryRun, plannedMissingDirs, rsyncAll, type RsyncReport } from '../site/rsync.js';
import { defineAction, type StepContext } from './types.js';

/** Uploaded files the mirror lacks are copied from the old host to the new (rsync --update, never deleting). */
export const filesSync = defineAction({
  name: 'files.sync',
  params: z.object({ from: z.string().min(1), to: z.string().min(1), paths: z.array(z.string().min(1)).min(1).optional() }).strict(),
  outputs: ['files', 'bytes'],
  needs: ['files'],
  needsHost: false,
  hostsIn: (p) => [p.from, p.to],
  changes: true,
  async check(ctx, p) {
    if (p.from === p.to) return { status: 'blocked', summary: `from and to are both ${p.from}` };
    const { sender, paths } = settings(ctx, p);
    const [receiver, sending] = await Promise.all([ctx.hosts.get(p.to), ctx.hosts.get(p.from)]);
    // Both read-only, so asked at once: a missing directory is named as such, whatever rsync said of it.
    const [absent, reports] = await Promise.all([
      ctx.phase === 'plan' ? plannedMissingDirs(ctx.hosts, sending, paths, ctx.timeoutMs) : missingDirs(sending, paths, ctx.timeoutMs),
      // A real run's plan makes the connection between the hosts that its steps then share.
      ctx.phase === 'plan' ? plannedDryRun(ctx.hosts, receiver, sender, paths, ctx.timeoutMs, ctx.dryRun ? 'private' : 'shared') : rsyncAll(receiver, sender, paths, true, ctx.timeoutMs, 'shared'),
    ]);
    if (absent.length > 0) return { status: 'blocked', summary: `${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} missing on ${p.from}` };
    const failed = failures(reports, p.from, p.to);
    if (failed) return { status: 'blocked', summary: failed };
    const { files, bytes, missing } = totals(reports);
    if (files === 0 && missing === 0) {
      return { status: 'done', summary: `${p.to} has every file of ${p.from} (${paths.join(', ')})`, outputs: { files: 0, bytes: 0 } };
    }
    const detail = reports.filter((r) => r.files > 0 || r.missing > 0).map((r) => `${r.path}: ${describeCopy(r.files, r.bytes)}`).join('; ');
    return { status: 'ready', summary: `${describeCopy(files, bytes)} to copy from ${p.from} to ${p.to} (${detail})` };
  },
  async apply(ctx, p) {
    const { sender, paths } = settings(ctx, p);
    const receiver = await ctx.hosts.get(p.to);
    const reports = await rsyncAll(receiver, sender, paths, false, ctx.timeoutMs, 'shared');
    const failed = failures(reports, p.from, p.to);
    if (failed) throw new StepFailedError(failed);
    const { files, bytes } = totals(reports);
    return { summary: `copied ${describeCopy(files, bytes)} from ${p.from} to ${p.to}`, outputs: { files, bytes } };
  },
  async verify(ctx, p) {
    const { sender, paths } = settings(ctx, p);
    const receiver = await ctx.hosts.get(p.to);
    const reports = await rsyncAll(receiver, sender, paths, true, ctx.timeoutMs, 'shared');
    const failed = failures(reports, p.from, p.to);
    if (failed) return { ok: false, summary: failed };
    const { missing } = totals(reports);
    if (missing > 0) return { ok: false, summary: `${p.to} still lacks ${missing} entr${missing === 1 ? 'y' : 'ies'} of ${p.from}` };
    return { ok: true, summary: `a second dry run finds nothing ${p.to} lacks` };
  },
});

function settings(ctx: StepContext, p: { from: string; to: string; paths?: string[] | undefined }): { sender: HostEntry; paths: string[] } {
  const paths = p.paths ?? ctx.inventory.doc.files?.paths;
  if (!paths) throw new StepFailedError(`step ${ctx.stepId} names no paths and ${ctx.inventory.file} has no files section`, { hint: 'add files.paths to the inventory or `paths` to the step' });
  const sender = ctx.inventory.hosts.get(p.from);
  if (!sender?.address) throw new StepFailedError(`${p.from} has no address in ${ctx.inventory.file}: ${p.to} cannot reach it over SSH`, { hint: `give ${p.from} an address` });
  return { sender, paths };
}

function failures(reports: RsyncReport[], from: string, to: string): string | null {
  const failed = reports.filter((r) => r.error !== null);
  if (failed.length === 0) return null;
  return failed.map((r) => `rsync of ${r.path} from ${from} on ${to} failed: ${r.error}`).join('; ');
}

function totals(reports: RsyncReport[]) {
  return reports.reduce((sum, r) => ({ files: sum.files + r.files, bytes: sum.bytes + r.bytes, missing: sum.missing + r.missing }), { files: 0, bytes: 0, missing: 0 });
}
