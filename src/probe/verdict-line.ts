import type { ProbeSummary } from './summary.js';

/** The closing line of a probed run: where it measured from, what it saw, and the data-loss verdict. */
export function verdictLine(s: ProbeSummary): string {
  const where = `probe from the ${s.from} (${s.url}${s.write_url ? ` and POST ${s.write_url}` : ''})`;
  const counts = `${s.failed_requests} of ${s.requests} reads${s.write_url ? ` and ${s.failed_writes} of ${s.write_requests} writes` : ''} failed`;
  let seen: string;
  if (!s.reachable) seen = `never reached the site: ${counts}, no outage figure`;
  else if (s.longest_outage_ms === 0) seen = `saw no outage: ${counts}`;
  else {
    const during = s.outage_steps.length > 0 ? `, during ${s.outage_steps.join(', ')}` : '';
    seen = `longest outage ${s.longest_outage_ms} ms (${s.outage_kind}${s.outage_open ? ', still open at the end' : ''}${during}); ${counts}`;
  }
  const d = s.data_loss;
  const loss = d.wal_bytes === null ? `data loss unknown (${d.basis})` : d.wal_bytes === 0 ? `data loss none, 0 bytes of WAL (${d.old_lsn ? `old ${d.old_lsn}, new ${d.new_lsn}` : d.basis})` : `data loss ${d.wal_bytes} bytes of WAL (${d.basis})`;
  return `${where}: ${seen}; ${loss}`;
}
