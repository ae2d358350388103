import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockedError, LockHeldError } from '../../src/errors.js';
import type { Inventory } from '../../src/inventory/schema.js';
import { SiteLock, controlLockDir } from '../../src/engine/lock.js';
import { currentOwner } from '../../src/engine/lock-owner.js';
import { HostPool } from '../../src/transports/pool.js';
import type { CommandResult, Transport } from '../../src/transports/types.js';

type Answer = (command: string) => Promise<Partial<CommandResult>>;

/** A pool of scripted hosts: each answers lock commands as told. */
function pool(hosts: Record<string, Answer>): { pool: HostPool; commands: Array<[string, string]> } {
  const commands: Array<[string, string]> = [];
  const inventory = { file: 'mirrorctl.yaml', hosts: new Map(Object.keys(hosts).map((name) => [name, { name }])) } as unknown as Inventory;
  const factory = async (entry: { name: string }): Promise<Transport> => ({
    host: entry.name,
    async exec(command: string) {
      commands.push([entry.name, command]);
      const answer = await hosts[entry.name]!(command);
      return { command, host: entry.name, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 1, timedOut: false, ...answer };
    },
    forward: () => Promise.reject(new Error('no forwarding here')),
    close: async () => undefined,
  });
  return { pool: new HostPool(inventory, factory as never), commands };
}

const takes: Answer = async (command) => ({ stdout: command.includes('mkdir -p') ? 'acquired\n' : '' });
const releaseNever: Answer = (command) => (command.includes('mkdir -p') ? takes(command) : new Promise(() => undefined));

async function siteLock(p: HostPool, stateDir = mkdtempSync(join(tmpdir(), 'mirrorctl-lock-'))) {
  return { lock: new SiteLock(await currentOwner('run-1', 'mirrorctl test'), 'site', stateDir, p), stateDir };
}

describe('SiteLock', () => {
  it('takes the control machine lock, then the hosts in name order; owner.json records the machine', async () => {
    const { pool: p, commands } = pool({ b: takes, a: takes });
    const { lock, stateDir } = await siteLock(p);
    await lock.acquire(['b', 'a']);
    expect(commands.map(([host]) => host)).toEqual(['a', 'b']);
    const recorded = JSON.parse((await import('node:fs')).readFileSync(join(controlLockDir(stateDir, 'site'), 'owner.json'), 'utf8'));
    expect(recorded).toMatchObject({ run_id: 'run-1', pid: process.pid, machine_id: expect.any(String), boot_id: expect.any(String), hostname: expect.any(String), pid_ns: expect.stringMatching(/^pid:/), start_time: expect.any(Number) });
    expect(commands[0]![1]).toContain('"boot_id"');
    await lock.release();
    expect(existsSync(controlLockDir(stateDir, 'site'))).toBe(false);
  });

  it('a bounded release does not wait for a host that never answers, and names it', async () => {
    const { pool: p } = pool({ a: takes, b: releaseNever });
    const { lock } = await siteLock(p);
    await lock.acquire(['a', 'b']);
    expect(await lock.releaseWithin(50)).toEqual(['b']);
  });

  it('once the hosts answer, the control machine lock is given back too', async () => {
    const { pool: p } = pool({ a: takes });
    const { lock, stateDir } = await siteLock(p);
    await lock.acquire(['a']);
    expect(await lock.releaseWithin(10_000)).toEqual([]);
    expect(existsSync(controlLockDir(stateDir, 'site'))).toBe(false);
  });

  it('a host lock that cannot be taken (read-only /run) blocks (exit 3) naming the host and the cause; the control lock is given back', async () => {
    const { pool: p } = pool({ web1: async () => ({ stdout: "cannot=mkdir: cannot create directory '/run/mirrorctl': Read-only file system\n" }) });
    const { lock, stateDir } = await siteLock(p);
    const error = await lock.acquire(['web1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockedError);
    expect((error as BlockedError).exitCode).toBe(3);
    expect((error as BlockedError).message).toMatch(/on web1: .*Read-only file system/);
    expect(existsSync(controlLockDir(stateDir, 'site'))).toBe(false);
  });

  it('a host that does not answer the lock command blocks (exit 3), it is not "locked"', async () => {
    const { pool: p } = pool({ web1: async () => ({ exitCode: null, timedOut: true }) });
    const { lock } = await siteLock(p);
    const error = await lock.acquire(['web1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockedError);
    expect((error as Error).message).toMatch(/on web1: no answer/);
  });

  it('a host lock held by another run: exit 4 naming the holder', async () => {
    const holder = JSON.stringify({ run_id: 'other-run', user: 'ops', control_host: 'bastion', pid: 7, command: 'mirrorctl failover', started_at: 'x' });
    const { pool: p } = pool({ web1: async () => ({ stdout: `mkdir=mkdir: File exists\nmachine_id=m\nboot_id=b\nhostname=web1\npid_ns=pid:[1]\nlock=held\nowner:\n${holder}\n` }) });
    const { lock } = await siteLock(p);
    const error = await lock.acquire(['web1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toMatch(/locked on web1 by run other-run .*another machine/);
  });

  it('a file where the control lock directory should be blocks (exit 3) naming the control machine', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'mirrorctl-lock-'));
    writeFileSync(join(stateDir, 'locks'), 'not a directory');
    const { pool: p } = pool({});
    const { lock } = await siteLock(p, stateDir);
    const error = await lock.acquire([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockedError);
    expect((error as Error).message).toMatch(/on the control machine: .*locks: exists and is not a directory/);
  });
});
