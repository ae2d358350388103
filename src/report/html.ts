import type { Report } from './model.js';

// report.html: one self-contained page (no scripts, no fetches, inline style and SVG) with
// the verdict, the figures, the timeline and the step table, readable in any browser.

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The one-line verdict, as the human output ends with it. */
export function outageText(report: Report): string {
  const s = report.summary;
  if (!s.reachable) return 'the site never answered the probe (the control machine did not reach it): no outage figure';
  if (s.longest_outage_ms === 0) return 'no failed request';
  return `${s.longest_outage_ms} ms (${s.outage_kind}${s.outage_open ? ', still open when the probe ended' : ''})`;
}

/** The data-loss figure in words. */
function dataLossText(report: Report): string {
  const d = report.summary.data_loss;
  return d.wal_bytes === null ? 'unknown: cannot be proven' : `${d.wal_bytes} bytes of WAL`;
}

/** The page, with `svg` (the timeline) inline. */
export function reportHtml(report: Report, svg: string | null): string {
  const s = report.summary;
  const e = escapeHtml;
  const origin = Date.parse(report.probe.started);
  const rel = (time: string) => ((Date.parse(time) - origin) / 1000).toFixed(3);
  const figures: Array<[string, string]> = [
    ['outcome', String(report.run.outcome ?? 'unknown')],
    ['longest outage', outageText(report)],
    ['outage from', s.outage_from ? `${s.outage_from} to ${s.outage_to}` : '—'],
    ['steps during the outage', s.outage_steps.length > 0 ? s.outage_steps.join(', ') : '—'],
    ['read requests', `${s.requests} (${s.failed_requests} failed) to ${s.url}`],
    ['write requests', s.write_url ? `${s.write_requests} (${s.failed_writes} failed) to ${s.write_url}` : 'no write URL'],
    ['measured from', `${s.from}, every ${report.probe.interval_ms} ms, each request within ${report.probe.timeout_ms} ms`],
    ['reachable', s.reachable ? 'yes' : 'no'],
    ['data loss', dataLossText(report)],
    ['data-loss basis', s.data_loss.basis],
    ['old / new LSN', `${s.data_loss.old_lsn ?? '—'} / ${s.data_loss.new_lsn ?? '—'}`],
  ];
  const rows = report.steps
    .map((step) => `<tr><td><code>${e(step.id)}</code></td><td>${e(step.action)}</td><td>${e(step.host ?? '-')}</td><td class="n">${rel(step.start)}</td><td class="n">${Math.round(Date.parse(step.end) - Date.parse(step.start))}</td><td class="o-${e(step.outcome ?? 'not-run')}">${e(step.outcome ?? 'not run')}</td></tr>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`${report.run.playbook} on ${report.run.site}: ${report.run.outcome ?? 'unknown'}`)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #263238; max-width: 80rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.sub { color: #607d8b; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content auto; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
.timeline { overflow-x: auto; border: 1px solid #cfd8dc; padding: .5rem; background: white; }
.timeline svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin-top: 1rem; }
th, td { border-bottom: 1px solid #eceff1; padding: .25rem .75rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.o-failed, .o-blocked { color: #c62828; font-weight: 600; }
.o-changed { color: #2e7d32; }
</style>
</head>
<body>
<h1>${e(report.run.playbook)} on ${e(report.run.site)}: ${e(String(report.run.outcome ?? 'unknown'))}</h1>
<p class="sub">run ${e(report.run.run_id ?? '-')}, ${e(report.run.started)} to ${e(report.run.ended)}</p>
<h2>What users saw</h2>
<dl id="figures">
${figures.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('\n')}
</dl>
<h2>Timeline</h2>
<div class="timeline" id="timeline">
${svg ?? '<p>The timeline could not be drawn; report.json has its data.</p>'}
</div>
<h2>Steps</h2>
<table id="steps">
<thead><tr><th>step</th><th>action</th><th>host</th><th>start (s)</th><th>ms</th><th>outcome</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="sub">Seen from the ${e(s.from)}: users behind a router that ignores gratuitous ARP may see a longer outage.</p>
</body>
</html>
`;
}
