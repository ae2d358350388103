import type { LabHostName } from '../../src/lab/paths.js';
import { LAB_HOSTS, labRestore, labStatusAt } from './product.js';
import { runHandScript } from './hand-script.js';
import { otherHost, siteLayout, sql, waitHealthy, type BenchLab } from './lab-site.js';

// Between runs: make the pair healthy again after a run that failed half-way (hosts
// back, one primary with the IP and read-write sessions, the other streaming from it).
// Uses the hand-written script's steps, which do not depend on mirrorctl working.

/** Returns the primary of the repaired pair, or null when it could not be repaired. */
export async function repairPair(lab: BenchLab, preferred: LabHostName | null, progress: (line: string) => void): Promise<LabHostName | null> {
  const status = await labStatusAt(lab.dir);
  for (const host of status.hosts) {
    if (host.link !== 'up' || !host.sshd) {
      progress(`repair: restoring ${host.name}`);
      await labRestore(lab.dir, host.name).catch((error: Error) => progress(`repair: restoring ${host.name} failed: ${error.message}`));
    }
  }
  const layout = await siteLayout(lab);
  const primaries = LAB_HOSTS.filter((h) => layout.roles[h] === 'primary');
  let primary: LabHostName;
  if (primaries.length === 1) primary = primaries[0]!;
  else if (primaries.length === 2) primary = layout.ipHolders.length === 1 ? layout.ipHolders[0]! : (preferred ?? 'web1');
  else {
    primary = layout.roles.web1 === 'replica' ? 'web1' : 'web2';
    progress(`repair: no primary; promoting ${primary}`);
    await sql(lab, primary, 'SELECT pg_promote(true, 60)', 'postgres');
  }
  const replica = otherHost(primary);
  progress(`repair: ${primary} primary, ${replica} rejoins it`);
  await runHandScript(lab, 'ip-flush', replica, primary);
  if (!layout.streaming.includes(replica) || layout.roles[replica] !== 'replica') {
    const rejoin = await runHandScript(lab, 'rejoin', replica, primary);
    if (rejoin.exitCode !== 0) {
      progress(`repair: rejoin of ${replica} failed (${rejoin.stderr.trim().split('\n').at(-1)}); cloning it afresh`);
      const clone = await runHandScript(lab, 'reclone', replica, primary);
      if (clone.exitCode !== 0) progress(`repair: clone of ${replica} failed: ${clone.stderr.trim().split('\n').at(-1)}`);
    }
  }
  return (await waitHealthy(lab, 30_000)).primary;
}
