// Reads the lab's real state for assertions: PostgreSQL, interfaces, ARP, memcached,
// files and HTTP — never mirrorctl's own output.
import { expect } from 'vitest';
import { memcacheGet, memcacheSet } from '../../src/lab/memcache-client.js';
import { runCli, type CliResult } from './cli.js';
import type { LabHostName, TestLab } from './lab.js';

export const HOSTS: LabHostName[] = ['web1', 'web2'];

/** Runs SQL as postgres on a host (unix socket); returns trimmed, unaligned output. */
export async function psql(lab: TestLab, host: LabHostName, sql: string): Promise<string> {
  const quoted = `'${sql.replace(/'/g, `'\\''`)}'`;
  const r = await lab.hostExec(host, `su postgres -s /bin/sh -c "psql -X -p ${lab.pgPort} -d wiki -Atc ${quoted.replace(/"/g, '\\"')}"`);
  if (r.exitCode !== 0) throw new Error(`psql on ${host} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function inRecovery(lab: TestLab, host: LabHostName): Promise<boolean> {
  return (await psql(lab, host, 'select pg_is_in_recovery()')) === 't';
}

/** The host a replica streams from (sender address), or null. */
export async function streamsFrom(lab: TestLab, host: LabHostName): Promise<string | null> {
  const out = await psql(lab, host, "select sender_host from pg_stat_wal_receiver where status = 'streaming'");
  return out === '' ? null : out;
}

/** Which hosts have the portable IP on any interface (any prefix length), by asking each namespace. */
export async function ipOn(lab: TestLab): Promise<LabHostName[]> {
  const found: LabHostName[] = [];
  for (const host of HOSTS) {
    const r = await lab.hostExec(host, 'ip -o -4 addr show');
    if (r.stdout.split(/\s+/).some((word) => word.split('/')[0] === lab.portableIp)) found.push(host);
  }
  return found;
}

export async function macOf(lab: TestLab, host: LabHostName): Promise<string> {
  // `ip link`, not /sys/class/net: the host's sysfs view belongs to the namespace that mounted it.
  const out = (await lab.hostExec(host, `ip -o link show dev ${lab.iface[host]}`)).stdout;
  return /link\/ether ([0-9a-f:]{17})/i.exec(out)![1]!.toLowerCase();
}

/** MACs that answer ARP for the portable IP, seen from the client namespace. */
export async function arpAnswers(lab: TestLab): Promise<string[]> {
  const r = await lab.hostExec('client', `arping -c 2 -w 2 -I eth0 ${lab.portableIp}`);
  return [...new Set([...r.stdout.matchAll(/\[([0-9a-f:]{17})\]/gi)].map((m) => m[1]!.toLowerCase()))];
}

export interface Health {
  host: string;
  db_role: string;
  session_mode: string;
}

/** GET /health through the portable IP from the control machine. */
export async function health(lab: TestLab): Promise<Health | null> {
  try {
    const r = await fetch(`http://${lab.portableIp}/health`, { signal: AbortSignal.timeout(3000) });
    return r.status === 200 ? ((await r.json()) as Health) : null;
  } catch {
    return null;
  }
}

export function servers(lab: TestLab): string[] {
  return HOSTS.map((h) => `${lab.addresses[h]}:11211`);
}

export async function setCacheKeys(lab: TestLab, key: string): Promise<void> {
  for (const server of servers(lab)) await memcacheSet(server, key, 'stale page');
}

export async function cacheHas(server: string, key: string): Promise<boolean> {
  return (await memcacheGet(server, key)) !== null;
}

/** A listing of every upload path on a host: relative path, size and checksum. */
export async function uploads(lab: TestLab, host: LabHostName): Promise<string> {
  const r = await lab.hostExec(host, 'cd /srv/wiki && find uploads avatars -type f -exec md5sum {} + | sort -k2');
  return r.stdout;
}

/** Everything a dry run or a blocked run must leave untouched. */
export async function snapshot(lab: TestLab): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ip: await ipOn(lab) };
  for (const host of HOSTS) {
    out[`${host}.recovery`] = await inRecovery(lab, host).catch(() => 'down');
    out[`${host}.sessions`] = (await lab.hostExec(host, 'cat /etc/wiki/app.ini')).stdout;
    out[`${host}.uploads`] = await uploads(lab, host);
    out[`${host}.locks`] = (await lab.hostExec(host, 'ls /run/mirrorctl 2>/dev/null')).stdout;
  }
  for (const server of servers(lab)) out[`${server}.probe`] = await memcacheGet(server, 'mirrorctl-test-probe').catch(() => 'down');
  return out;
}

/** POSTs /write through the portable IP without pause until stopped; returns acknowledged ids. */
export function startWriter(lab: TestLab): { stop(): Promise<{ acked: number[]; failures: number }> } {
  const acked: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    const deadline = Date.now() + 120_000;
    let n = 0;
    while (running && Date.now() < deadline) {
      n += 1;
      try {
        const r = await fetch(`http://${lab.portableIp}/write?note=w${n}`, { method: 'POST', signal: AbortSignal.timeout(1000) });
        const body = (await r.json().catch(() => ({}))) as { id?: number };
        if (r.status === 200 && typeof body.id === 'number') acked.push(body.id);
        else failures += 1;
      } catch {
        failures += 1;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { acked, failures };
    },
  };
}

/** `mirrorctl ARGS -c <lab inventory>` with the lab's own state dir. */
export function labCli(lab: TestLab, args: string[], inventory = lab.inventory): Promise<CliResult> {
  return runCli([...args, '-c', inventory, '--state-dir', `${lab.dir}/state`]);
}

/** `mirrorctl status --json` on the lab, parsed (it always exits 0). */
export async function statusJson(lab: TestLab): Promise<any> {
  const r = await labCli(lab, ['status', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}
