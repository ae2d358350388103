import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, localSite, runCli } from '../helpers/cli.js';

// --probe and --report on a one-host site of this machine, probing a real local HTTP server
// that stops answering while a step runs: the event order, the figures, the files, exit 2.

let server: Server;
let url = '';
let down = false;

beforeAll(async () => {
  server = createServer((request, response) => {
    response.writeHead(down ? 503 : request.method === 'POST' ? 201 : 200).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const book = `name: outage
summary: a step during which the site answers 503
steps:
  - id: before
    action: service.run
    host: local
    with: { run: "true" }
  - id: pause
    action: service.run
    host: local
    with: { run: "sleep 0.3" }
  - id: break-site
    action: service.run
    host: local
    with: { run: "sleep 0.6" }
  - id: after
    action: service.run
    host: local
    with: { run: "true" }
`;

describe('--probe / --report without a lab', () => {
  it('probe.summary comes just before run.end with the outage, the step during it, and the three files', async () => {
    const site = localSite(`probe:\n  url: ${url}/health\n  write_url: ${url}/probe\n  interval_ms: 10\n  timeout_ms: 300\n`);
    const file = site.playbook('outage', book);
    const dir = join(site.dir, 'report');
    // The test's server answers 503 from when break-site starts until it ends (both seen through the CLI's events).
    const run = runCli(['run', file, '--yes', '--json', '--report', dir, '-c', site.inventory, '--state-dir', site.stateDir], {
      onSpawn: (child) => {
        let buffer = '';
        child.stdout!.on('data', (d: Buffer) => {
          buffer += d.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop()!;
          for (const line of lines) {
            const e = JSON.parse(line);
            if (e.step !== 'break-site') continue;
            if (e.event === 'step.check' && e.phase === 'run') down = true;
            if (e.event === 'step.end') down = false;
          }
        });
      },
    });
    const r = await run;
    down = false;
    expect(r.code, r.stderr).toBe(0);
    const all = events(r.stdout);
    expect(all.map((e) => e.event).slice(-2)).toEqual(['probe.summary', 'run.end']);
    const s = all.at(-2)!;
    expect(s).toMatchObject({ from: 'control machine', url: `${url}/health`, write_url: `${url}/probe`, reachable: true, outage_open: false });
    expect(s.failed_requests).toBeGreaterThan(0);
    expect(s.failed_writes).toBeGreaterThan(0);
    expect(s.longest_outage_ms).toBeGreaterThan(0);
    // the outage ends with the first success after it, which may come while the next step runs
    expect(s.outage_steps).toContain('break-site');
    expect(s.outage_steps).not.toContain('before');
    expect(s.data_loss).toMatchObject({ wal_bytes: null, basis: expect.stringMatching(/no database section/) });
    expect(r.stderr).toMatch(/^probe from the control machine .*longest outage \d+ ms/m);

    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.run).toMatchObject({ playbook: 'outage', outcome: 'succeeded', run_id: s.run_id });
    expect(report.steps.map((x: any) => [x.id, x.outcome])).toEqual([['before', 'changed'], ['pause', 'changed'], ['break-site', 'changed'], ['after', 'changed']]);
    expect(report.probe.requests.filter((q: any) => !q.ok).length).toBe(s.failed_requests + s.failed_writes);
    const svg = readFileSync(join(dir, 'report.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const id of ['before', 'break-site', 'after']) expect(svg).toContain(`>${id}</text>`);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`${s.longest_outage_ms} ms`);
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
  });

  it('--report with nothing to probe (no probe.url, no http.url) is exit 2 before anything runs', async () => {
    const site = localSite();
    const file = site.playbook('outage', book);
    const dir = join(site.dir, 'report');
    const r = await runCli(['run', file, '--yes', '--report', dir, '-c', site.inventory, '--state-dir', site.stateDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/probe\.url nor http\.url/);
    expect(existsSync(join(site.stateDir, 'runs'))).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
