import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentOwner, type LockOwner } from '../../src/engine/lock-owner.js';
import { BIN, localSite, runCli, type LocalSite } from '../helpers/cli.js';

// Each scenario writes owner.json files by hand: this machine's identity (the test process
// is a live owner), with a pid that is gone, a start time that differs, another pid
// namespace, another boot, or an old file without the machine fields.

const hostLocks: string[] = [];
afterEach(() => {
  for (const dir of hostLocks.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Locks {
  site: LocalSite;
  name: string;
  control: string;
  host: string;
  unlock(...args: string[]): ReturnType<typeof runCli>;
}

function lockedSite(): Locks {
  const site = localSite();
  const name = readFileSync(site.inventory, 'utf8').match(/site: (\S+)/)![1]!;
  const host = `/run/mirrorctl/${name}.lock`;
  hostLocks.push(host);
  return { site, name, control: join(site.stateDir, 'locks', name), host, unlock: (...args) => runCli(['unlock', '-c', site.inventory, '--state-dir', site.stateDir, ...args]) };
}

/** Writes a lock directory with this owner.json (null: none; a string: as is), its mtime `ageMs` ago. */
function writeLock(dir: string, owner: Partial<LockOwner> | string | null, ageMs = 0): void {
  mkdirSync(dir, { recursive: true });
  if (owner !== null) writeFileSync(join(dir, 'owner.json'), typeof owner === 'string' ? owner : JSON.stringify(owner, null, 2) + '\n');
  const when = new Date(Date.now() - ageMs);
  utimesSync(dir, when, when);
}

/** This test process as a lock owner: alive, on this machine. */
function liveOwner(runId: string): Promise<LockOwner> {
  return currentOwner(runId, 'mirrorctl failover');
}

/** A pid that existed a moment ago and is gone now. */
function deadPid(): number {
  return Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
}

const OLD_FORMAT = { run_id: 'old-format', user: 'ops', control_host: 'bastion', pid: 1, command: 'mirrorctl switchover', started_at: '2026-01-01T00:00:00Z' };

describe('mirrorctl unlock', () => {
  it('removes stale locks with -y: a pid that is gone (control machine), a pid whose start time differs (host); exit 0', async () => {
    const s = lockedSite();
    const me = await liveOwner('unused');
    writeLock(s.control, { ...me, run_id: 'dead-run', pid: deadPid() });
    writeLock(s.host, { ...me, run_id: 'reused-pid-run', start_time: me.start_time! + 1 });
    const r = await s.unlock('-y');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the control machine: .* \(stale\): held by run dead-run .*pid \d+ is gone/);
    expect(r.stdout).toMatch(/local: \/run\/mirrorctl\/.*\(stale\): held by run reused-pid-run .*is now another process/);
    expect(r.stdout).toMatch(/removed 2 lock\(s\)/);
    expect(existsSync(s.control)).toBe(false);
    expect(existsSync(s.host)).toBe(false);
    const again = await s.unlock('-y');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/no locks held/);
  });

  it('a lock from an earlier boot of this machine is stale', async () => {
    const s = lockedSite();
    const me = await liveOwner('before-reboot');
    writeLock(s.host, { ...me, boot_id: '00000000-0000-4000-8000-000000000000' });
    const r = await s.unlock('-y');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rebooted since/);
    expect(existsSync(s.host)).toBe(false);
  });

  it("a live run's lock is never removed, not even with -y --force: listed with its owner, exit 4; a stale one beside it goes", async () => {
    const s = lockedSite();
    const me = await liveOwner('live-run');
    writeLock(s.control, me);
    writeLock(s.host, { ...me, run_id: 'dead-run', pid: deadPid() });
    const r = await s.unlock('-y', '--force');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(new RegExp(`the control machine: .*\\(live, kept\\): held by run live-run \\(.*pid ${process.pid}, \`mirrorctl failover\``));
    expect(r.stdout).toMatch(/still running/);
    expect(existsSync(s.control)).toBe(true);
    expect(existsSync(s.host)).toBe(false);
  });

  it("another pid namespace, or an owner.json without machine fields: another machine's lock, kept (exit 4) unless -y --force", async () => {
    const s = lockedSite();
    const me = await liveOwner('container-run');
    // The pid is gone here, but in another pid namespace that says nothing.
    writeLock(s.host, { ...me, pid_ns: 'pid:[4026599999]', pid: deadPid() });
    writeLock(s.control, OLD_FORMAT);
    const kept = await s.unlock('-y');
    expect(kept.code).toBe(4);
    expect(kept.stdout).toMatch(/local: .*held from another machine, kept unless --force.*container-run.*pid:\[4026599999\]/);
    expect(kept.stdout).toMatch(/the control machine: .*held from another machine.*old-format.*no machine id recorded/);
    expect(existsSync(s.host)).toBe(true);
    expect(existsSync(s.control)).toBe(true);

    const forced = await s.unlock('-y', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/removed 2 lock\(s\)/);
    expect(existsSync(s.host)).toBe(false);
    expect(existsSync(s.control)).toBe(false);
  });

  it('another machine id with the same pid and start time is still another machine', async () => {
    const s = lockedSite();
    const me = await liveOwner('twin-run');
    writeLock(s.host, { ...me, machine_id: 'ffffffffffffffffffffffffffffffff' });
    const r = await s.unlock('-y');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/held from another machine/);
    expect(existsSync(s.host)).toBe(true);
  });

  it('no readable owner: kept while under a minute old, removed once older', async () => {
    const s = lockedSite();
    writeLock(s.host, null);
    writeLock(s.control, '{ not json', 5 * 60_000);
    const first = await s.unlock('-y');
    expect(first.code).toBe(4);
    expect(first.stdout).toMatch(/local: .*\(kept for now\): held by an unknown run/);
    expect(existsSync(s.host)).toBe(true);
    expect(existsSync(s.control)).toBe(false);

    const old = new Date(Date.now() - 2 * 60_000);
    utimesSync(s.host, old, old);
    const second = await s.unlock('-y');
    expect(second.code).toBe(0);
    expect(existsSync(s.host)).toBe(false);
  });

  it('without -y and without a terminal: exit 2 and nothing removed; with nothing it may remove, no confirmation is needed (exit 4)', async () => {
    const s = lockedSite();
    const me = await liveOwner('live-run');
    writeLock(s.host, { ...me, run_id: 'dead-run', pid: deadPid() });
    const refused = await s.unlock();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no terminal/);
    expect(existsSync(s.host)).toBe(true);

    rmSync(s.host, { recursive: true });
    writeLock(s.host, me);
    const live = await s.unlock();
    expect(live.code).toBe(4);
    expect(existsSync(s.host)).toBe(true);
  });

  it('a host that does not answer: its lock is not checked, exit 4', async () => {
    const s = lockedSite();
    const dir = s.site.dir;
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    writeFileSync(join(dir, 'known_hosts'), '');
    const inventory = readFileSync(s.site.inventory, 'utf8').replace(
      'hosts:\n',
      `hosts:\n  gone:\n    address: 127.0.0.1\n    ssh: { port: 1, connect_timeout_ms: 2000, identity_file: ${join(dir, 'key')}, known_hosts: ${join(dir, 'known_hosts')} }\n`,
    );
    writeFileSync(s.site.inventory, inventory);
    const r = await s.unlock('-y');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/gone: not checked: .*refused/);
  });

  it('--json: one JSON object on stdout, what it found and did', async () => {
    const s = lockedSite();
    const me = await liveOwner('json-run');
    writeLock(s.host, { ...me, pid: deadPid() });
    const r = await s.unlock('-y', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      site: s.name,
      locks: [{ host: 'local', path: s.host, state: 'stale', owner: { run_id: 'json-run' }, result: 'removed' }],
      unanswered: [],
      exit_code: 0,
    });
    expect(r.stderr).toMatch(/removed 1 lock/);
  });
});

// A real terminal: util-linux `script` gives unlock a pty; the keys arrive once it asks.
function onTerminal(args: string[], keys: string): { code: number | null; screen: string } {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `(sleep 4; printf '${keys}'; sleep 2) | script -qfec "${command.replace(/"/g, '\\"')}" /dev/null`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, screen: r.stdout };
}

describe('mirrorctl unlock --force on a terminal', () => {
  it("asks for the site name to be typed: anything else keeps another machine's lock (exit 130), the name removes it", async () => {
    const s = lockedSite();
    writeLock(s.host, OLD_FORMAT);
    const args = ['unlock', '-c', s.site.inventory, '--state-dir', s.site.stateDir, '--force'];
    const declined = onTerminal(args, 'yes\\r');
    expect(declined.screen).toMatch(new RegExp(`Type ${s.name} to go ahead`));
    expect(declined.code).toBe(130);
    expect(existsSync(s.host)).toBe(true);

    const typed = onTerminal(args, `${s.name}\\r`);
    expect(typed.code).toBe(0);
    expect(existsSync(s.host)).toBe(false);
  });
});
