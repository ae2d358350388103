import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeLock } from '../../src/engine/lock-judge.js';
import { currentOwner } from '../../src/engine/lock-owner.js';
import { acquireScript, lookScript, parseLook, peekScript, removeScript } from '../../src/engine/lock-probe.js';
import { parseStartTime, processSeen, startTimeOf, thisMachine } from '../../src/engine/machine-identity.js';

function sh(script: string): string {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout;
}

function tempLock(owner?: object | string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'mirrorctl-probe-')), 'site.lock');
  mkdirSync(dir);
  if (owner !== undefined) writeFileSync(join(dir, 'owner.json'), typeof owner === 'string' ? owner : JSON.stringify(owner, null, 2) + '\n');
  return dir;
}

/** A pid that existed a moment ago and is gone now. */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('parseStartTime', () => {
  it('reads field 22 even when the command name holds spaces and parentheses', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21';
    expect(parseStartTime(`4242 (node) ${rest}`)).toBe(987654);
    expect(parseStartTime(`4242 (a (b) c) ${rest}`)).toBe(987654);
    expect(parseStartTime('garbage')).toBeNull();
    expect(parseStartTime('')).toBeNull();
  });
});

describe('the shell look and this process agree', () => {
  it('the machine identity read by the shell equals the one an owner records', async () => {
    const look = parseLook(sh(lookScript('/nonexistent/mirrorctl-lock')));
    expect(look.lock).toBe('absent');
    const mine = await thisMachine();
    expect(look.here).toEqual(mine);
    expect(mine.pid_ns).toMatch(/^pid:\[\d+\]$/);
    expect(mine.boot_id).not.toBe('');
  });

  it('a lock owned by this process reads as live; the same owner with a dead pid, or another start time, as stale', async () => {
    const me = await currentOwner('r-live', 'mirrorctl test');
    expect(me.start_time).toBe(await startTimeOf(process.pid));
    expect(me.start_time).toBeGreaterThan(0);
    const live = parseLook(sh(lookScript(tempLock(me))));
    expect(live.owner).toMatchObject({ run_id: 'r-live', pid: process.pid });
    expect(live.process).toEqual({ state: 'running', startTime: me.start_time });
    expect(judgeLock(live).state).toBe('live');

    const dead = parseLook(sh(lookScript(tempLock({ ...me, pid: deadPid() }))));
    expect(dead.process).toEqual({ state: 'gone' });
    expect(judgeLock(dead).state).toBe('stale');

    const reused = parseLook(sh(lookScript(tempLock({ ...me, start_time: me.start_time! + 1 }))));
    expect(judgeLock(reused)).toMatchObject({ state: 'stale', reason: expect.stringMatching(/another process/) });
  });

  it('processSeen tells a running pid from a gone one', async () => {
    expect(await processSeen(process.pid)).toEqual({ state: 'running', startTime: await startTimeOf('self') });
    expect(await processSeen(deadPid())).toEqual({ state: 'gone' });
  });
});

describe('lookScript', () => {
  it('a lock with no owner.json: its age by the directory mtime', () => {
    const dir = tempLock();
    const fresh = parseLook(sh(lookScript(dir)));
    expect(fresh).toMatchObject({ lock: 'held', owner: null, ownerText: '' });
    expect(judgeLock(fresh).state).toBe('young');
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(dir, old, old);
    const aged = parseLook(sh(lookScript(dir)));
    expect(aged.ageMs).toBeGreaterThan(60_000);
    expect(judgeLock(aged).state).toBe('stale');
  });

  it('unreadable JSON is no owner; a file in place of the lock is not a directory', () => {
    expect(parseLook(sh(lookScript(tempLock('{not json')))).owner).toBeNull();
    const file = join(mkdtempSync(join(tmpdir(), 'mirrorctl-probe-')), 'site.lock');
    writeFileSync(file, 'x');
    expect(parseLook(sh(lookScript(file))).lock).toBe('not-a-directory');
  });
});

describe('peekScript', () => {
  it('reads a lock exactly as lookScript does; where nothing is, answers absent without reading the machine', async () => {
    const me = await currentOwner('r-peek', 'mirrorctl test');
    const dir = tempLock({ ...me, pid: deadPid() });
    const peeked = parseLook(sh(peekScript(dir)));
    const looked = parseLook(sh(lookScript(dir)));
    expect(peeked).toEqual(looked);
    expect(peeked.here.boot_id).not.toBe('');
    expect(judgeLock(peeked).state).toBe('stale');
    const file = join(mkdtempSync(join(tmpdir(), 'mirrorctl-probe-')), 'site.lock');
    writeFileSync(file, 'x');
    expect(parseLook(sh(peekScript(file))).lock).toBe('not-a-directory');
    const absent = sh(peekScript(join(dir, 'nothing-here')));
    expect(absent).toBe('lock=absent\n');
    expect(parseLook(absent)).toMatchObject({ lock: 'absent', owner: null });
  });
});

describe('acquireScript', () => {
  it('takes a free lock, writing owner.json; reads the holder of a taken one', () => {
    const root = mkdtempSync(join(tmpdir(), 'mirrorctl-probe-'));
    const dir = join(root, 'run', 'site.lock');
    const owner = JSON.stringify({ run_id: "r'1", pid: 1 });
    expect(parseLook(sh(acquireScript(join(root, 'run'), dir, owner))).answers).toHaveProperty('acquired');
    expect(JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8'))).toEqual({ run_id: "r'1", pid: 1 });
    const second = parseLook(sh(acquireScript(join(root, 'run'), dir, JSON.stringify({ run_id: 'r2' }))));
    expect(second.answers).not.toHaveProperty('acquired');
    expect(second.lock).toBe('held');
    expect(second.owner).toMatchObject({ run_id: "r'1" });
  });

  it('a file where the lock root should be: cannot, with mkdir\'s reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'mirrorctl-probe-'));
    writeFileSync(join(root, 'run'), 'not a directory');
    const look = parseLook(sh(acquireScript(join(root, 'run'), join(root, 'run', 'site.lock'), '{}')));
    expect(look.answers.cannot).toMatch(/File exists/);
  });
});

describe('removeScript', () => {
  it('removes the lock only while it is the one that was read', () => {
    const dir = tempLock({ run_id: 'stale-one', pid: 1 });
    const look = parseLook(sh(lookScript(dir)));
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ run_id: 'new-run', pid: 2 }));
    const old = new Date(Number(look.mtime) * 1000);
    utimesSync(dir, old, old);
    expect(sh(removeScript(look, dir)).trim()).toBe('changed');
    expect(existsSync(dir)).toBe(true);
    const again = parseLook(sh(lookScript(dir)));
    expect(sh(removeScript(again, dir)).trim()).toBe('removed');
    expect(existsSync(dir)).toBe(false);
    expect(sh(removeScript(again, dir)).trim()).toBe('gone');
  });
});
