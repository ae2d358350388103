// Spec 10 on the lab: --probe and --report measured against the site itself (an
// independent probe, the WAL positions PostgreSQL shows, the report opened in a real browser).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { events } from '../helpers/cli.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { OWN_INTERVAL_MS, OWN_TIMEOUT_MS, startOwnProbe } from '../helpers/own-probe.js';
import { inRecovery, ipOn, labCli, psql, startWriter } from '../helpers/site-state.js';
import { openPage } from '../helpers/browser.js';
import { parseLsn } from '../../src/site/lsn.js';

let lab: TestLab;
const cli = (args: string[]) => labCli(lab, args);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const DATA = '/var/lib/postgresql/15/main';

beforeAll(async () => {
  lab = await ensureLab();
});

function reportDir(): string {
  return mkdtempSync(join(tmpdir(), 'mirrorctl-report-'));
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The primary's timeline history, read on the host: [parent timeline, switchpoint] pairs. */
async function historyOf(host: 'web1' | 'web2'): Promise<Array<[number, string]>> {
  const file = await psql(lab, host, "select 'pg_wal/' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) || '.history'");
  const text = await psql(lab, host, `select pg_read_file('${file}')`);
  return text.split('\n').filter((l) => /^\d/.test(l)).map((l) => {
    const [parent, lsn] = l.split(/\s+/);
    return [Number(parent), lsn!.toUpperCase()];
  });
}

/** pg_controldata's "Latest checkpoint location" on a host, read by the test itself. */
async function checkpointOf(host: 'web1' | 'web2'): Promise<{ state: string; lsn: string }> {
  const r = await lab.hostExec(host, `su postgres -s /bin/sh -c 'LC_ALL=C ${PG_BIN}/pg_controldata -D ${DATA}'`);
  return { state: /Database cluster state:\s*(.+)/.exec(r.stdout)![1]!.trim(), lsn: /Latest checkpoint location:\s*(\S+)/.exec(r.stdout)![1]! };
}

async function until(what: string, test: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The three files are there and agree with the run's own events. */
function checkReport(dir: string, summary: Record<string, any>, outcome: string): any {
  const report = readJson(join(dir, 'report.json'));
  expect(Object.keys(report).sort()).toEqual(['probe', 'run', 'steps', 'summary']);
  expect(report.run).toMatchObject({ outcome, site: 'wiki' });
  const { event: _e, run_id: _r, ts: _t, ...fields } = summary;
  expect(report.summary).toEqual(fields);
  expect(report.probe.requests.length).toBe(summary.requests + summary.write_requests);
  for (const r of report.probe.requests) {
    expect(Object.keys(r).sort()).toEqual(['kind', 'ms', 'ok', 't']);
    expect(Number.isNaN(Date.parse(r.t))).toBe(false);
  }
  for (const s of report.steps) expect(Object.keys(s).sort()).toEqual(['action', 'end', 'host', 'id', 'outcome', 'start']);
  // the SVG: well-formed XML, every step id written on it
  const svg = readFileSync(join(dir, 'report.svg'), 'utf8');
  expect(XMLValidator.validate(svg)).toBe(true);
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const s of report.steps) expect(texts).toContain(s.id);
  return report;
}

describe('the rehearsal probe and report (spec 10)', () => {
  it('switchover --report under a writer: the outage agrees with an independent probe, data loss 0 proven by both LSNs, three files, JUnit properties, a page a real browser shows', async () => {
    const dir = reportDir();
    const writer = startWriter(lab);
    const own = startOwnProbe(`http://${lab.portableIp}/health`, `http://${lab.portableIp}/probe`);
    await new Promise((r) => setTimeout(r, 300));
    const r = await cli(['switchover', '--yes', '--json', '--report', dir, '--junit', join(dir, 'junit.xml')]);
    await new Promise((r) => setTimeout(r, 300));
    const independent = await own.stop();
    const { acked } = await writer.stop();
    expect(r.code, r.stderr).toBe(0);

    const all = events(r.stdout);
    expect(all.at(-1)).toMatchObject({ event: 'run.end', outcome: 'succeeded' });
    const summary = all.at(-2)!;
    expect(summary.event).toBe('probe.summary');
    expect(summary).toMatchObject({ from: 'control machine', url: `http://${lab.portableIp}/health`, write_url: `http://${lab.portableIp}/probe`, reachable: true });
    expect(summary.requests).toBeGreaterThan(20);
    expect(summary.write_requests).toBeGreaterThan(20);
    // stopping the old primary fails writes for a while: an outage the probe must see
    expect(summary.longest_outage_ms).toBeGreaterThan(0);
    expect(independent.answers).toBeGreaterThan(40);
    expect(Math.abs(summary.longest_outage_ms - independent.longestMs)).toBeLessThanOrEqual(OWN_INTERVAL_MS + OWN_TIMEOUT_MS);
    expect(Date.parse(summary.outage_to) - Date.parse(summary.outage_from)).toBeGreaterThanOrEqual(summary.longest_outage_ms - 1);
    const ran = all.filter((e) => e.event === 'step.end').map((e) => e.step);
    expect(summary.outage_steps.length).toBeGreaterThan(0);
    for (const step of summary.outage_steps) expect(ran).toContain(step);

    // zero data loss, proven by WAL positions: web2's own timeline history left web1's timeline past web1's final checkpoint
    const loss = summary.data_loss;
    expect(loss.wal_bytes).toBe(0);
    expect(parseLsn(loss.new_lsn) > parseLsn(loss.old_lsn)).toBe(true);
    expect((await historyOf('web2')).map(([, lsn]) => lsn)).toContain(loss.new_lsn);
    expect(await inRecovery(lab, 'web2')).toBe(false);
    const onWeb2 = new Set((await psql(lab, 'web2', `select id from writes where id in (${acked.join(',')})`)).split('\n').map(Number));
    expect(acked.filter((id) => !onWeb2.has(id))).toEqual([]);

    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(join(dir, 'junit.xml'), 'utf8'));
    const properties = Object.fromEntries(junit.testsuites.testsuite.properties.property.map((p: any) => [p.name, p.value]));
    expect(properties).toMatchObject({ longest_outage_ms: String(summary.longest_outage_ms), data_loss_wal_bytes: '0', reachable: 'true', requests: String(summary.requests), failed_writes: String(summary.failed_writes) });

    const report = checkReport(dir, summary, 'succeeded');
    expect(report.steps.map((s: any) => s.id)).toEqual(ran);

    // the page in a real browser: the timeline is visible, every step id and the outage figure are on it, it fetches nothing
    const pageUrl = `file://${join(dir, 'report.html')}`;
    const page = await openPage(pageUrl);
    try {
      expect(page.requests).toEqual([pageUrl]);
      const seen = await page.evaluate<{ text: string; box: { w: number; h: number }; onTop: boolean; visible: boolean }>(`(() => {
        const svg = document.querySelector('#timeline svg');
        const box = svg.getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, Math.min(box.top + box.height / 2, innerHeight - 1));
        const style = getComputedStyle(svg);
        return { text: document.body.innerText, box: { w: box.width, h: box.height }, onTop: svg.contains(hit) || hit === svg, visible: style.visibility === 'visible' && style.display !== 'none' && Number(style.opacity) > 0 };
      })()`);
      expect(seen.box.w).toBeGreaterThan(300);
      expect(seen.box.h).toBeGreaterThan(100);
      expect(seen.visible).toBe(true);
      expect(seen.text).toContain(`${summary.longest_outage_ms} ms`);
      for (const id of ran) expect(seen.text).toContain(id);
      writeFileSync(join(dir, 'report.png'), await page.screenshot());
      // scrolled into view, the timeline is what the browser draws there
      await page.evaluate(`document.querySelector('#timeline').scrollIntoView()`);
      const drawn = await page.evaluate<boolean>(`(() => { const svg = document.querySelector('#timeline svg'); const b = svg.getBoundingClientRect(); const hit = document.elementFromPoint(b.left + b.width / 2, b.top + Math.min(b.height, innerHeight) / 2); return svg.contains(hit) || hit === svg; })()`);
      expect(drawn).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('switchover --probe back: the human output ends with the verdict line, measured from the control machine', async () => {
    const r = await cli(['switchover', '--yes', '--probe']);
    expect(r.code, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^probe from the control machine \(http:\/\/.*\/health and POST .*\/probe\): (longest outage \d+ ms|saw no outage)/);
    expect(last).toMatch(/data loss none, 0 bytes of WAL \(old \d+\/[0-9A-F]+, new \d+\/[0-9A-F]+\)$/);
    expect(await ipOn(lab)).toEqual(['web1']);
  });

  it('a crashed primary: the blocked switchover still writes its report; the failover\'s verdict is null, with the crash and the positions as its basis', async () => {
    lab = await ensureLab();
    await lab.hostExec('web1', `kill -9 "$(head -n 1 ${DATA}/postmaster.pid)"`);
    await until('web1 is down', async () => (await psql(lab, 'web1', 'select 1').then(() => false, () => true)));
    const crashed = await checkpointOf('web1');
    expect(crashed.state).toBe('in production');

    const blockedDir = reportDir();
    const blocked = await cli(['switchover', '--yes', '--json', '--report', blockedDir]);
    expect(blocked.code).toBe(3);
    const blockedEvents = events(blocked.stdout);
    expect(blockedEvents.at(-1)).toMatchObject({ event: 'run.end', outcome: 'blocked' });
    const blockedSummary = blockedEvents.at(-2)!;
    expect(blockedSummary.event).toBe('probe.summary');
    expect(blockedSummary.data_loss).toEqual({ wal_bytes: 0, basis: 'no promotion', old_lsn: null, new_lsn: null });
    const blockedReport = checkReport(blockedDir, blockedSummary, 'blocked');
    expect(blockedReport.steps.find((s: any) => s.id === 'stop-old')).toMatchObject({ outcome: 'blocked' });

    const dir = reportDir();
    const r = await cli(['failover', '--yes', '--json', '--report', dir]);
    expect(r.code, r.stderr).toBe(0);
    const summary = events(r.stdout).at(-2)!;
    expect(summary.event).toBe('probe.summary');
    expect(summary.data_loss.wal_bytes).toBeNull();
    expect(summary.data_loss.basis).toMatch(/web1's database had crashed \(pg_controldata: "in production"/);
    expect(summary.data_loss.basis).toMatch(/web2 had received \S+ and replayed \S+ when it was promoted/);
    expect(summary.data_loss.old_lsn).toBe(crashed.lsn);
    expect((await historyOf('web2')).map(([, lsn]) => lsn)).toContain(summary.data_loss.new_lsn);
    checkReport(dir, summary, 'succeeded');

    const rejoin = await cli(['rejoin', 'web1', '--yes']);
    expect(rejoin.code, rejoin.stderr).toBe(0);
    const back = await cli(['switchover', '--to', 'web1', '--yes']);
    expect(back.code, back.stderr).toBe(0);
  });

  it('a failover with the primary cut off: null, basis what the replica had when promoted; the old primary could not be reached', async () => {
    lab = await ensureLab();
    await lab.cut('web1');
    const dir = reportDir();
    const r = await cli(['failover', '--yes', '--json', '--report', dir]);
    expect(r.code, r.stderr).toBe(0);
    const summary = events(r.stdout).at(-2)!;
    expect(summary.event).toBe('probe.summary');
    expect(summary.data_loss.wal_bytes).toBeNull();
    expect(summary.data_loss.basis).toMatch(/web1 could not be reached/);
    expect(summary.data_loss.basis).toMatch(/web2 had received \S+ and replayed \S+ when it was promoted/);
    expect(summary.data_loss.old_lsn).toBeNull();
    expect((await historyOf('web2')).map(([, lsn]) => lsn)).toContain(summary.data_loss.new_lsn);
    // users saw the site go away with the primary and come back from web2
    expect(summary.reachable).toBe(true);
    checkReport(dir, summary, 'succeeded');

    await lab.restore('web1');
    const rejoin = await cli(['rejoin', 'web1', '--yes']);
    expect(rejoin.code, rejoin.stderr).toBe(0);
    const back = await cli(['switchover', '--to', 'web1', '--yes']);
    expect(back.code, back.stderr).toBe(0);
  });

  it('a control machine that cannot reach the site: reachable false and no outage figure, not an outage', async () => {
    lab = await ensureLab();
    const dir = reportDir();
    const book = join(dir, 'look.yaml');
    writeFileSync(book, 'name: look\nsummary: only looks\nsteps:\n  - id: look\n    action: assert\n    host: web1\n    with: { run: "true", message: "web1 answers" }\n');
    // Only this lab's portable IP, only on the control machine: the hosts' own addresses (SSH) still route.
    const route = `${lab.portableIp}/32`;
    execFileSync('ip', ['route', 'add', 'blackhole', route]);
    try {
      const r = await cli(['run', book, '--yes', '--json', '--report', dir, '--junit', join(dir, 'junit.xml')]);
      expect(r.code, r.stderr).toBe(0);
      const summary = events(r.stdout).at(-2)!;
      expect(summary).toMatchObject({ event: 'probe.summary', reachable: false, longest_outage_ms: null, outage_kind: null, outage_from: null, outage_to: null, outage_steps: [] });
      expect(summary.requests).toBeGreaterThan(3);
      expect(summary.failed_requests).toBe(summary.requests);
      expect(summary.data_loss).toMatchObject({ wal_bytes: 0, basis: 'no promotion' });
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(junit).toContain('<property name="longest_outage_ms" value=""/>');
      expect(junit).toContain('<property name="reachable" value="false"/>');
      checkReport(dir, summary, 'succeeded');
    } finally {
      execFileSync('ip', ['route', 'del', 'blackhole', route]);
    }
  });
});
