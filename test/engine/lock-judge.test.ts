import { describe, expect, it } from 'vitest';
import { judgeFromControl, judgeLock, rebootedSince, sameMachine, type LockSighting } from '../../src/engine/lock-judge.js';
import type { LockOwner } from '../../src/engine/lock-owner.js';
import type { MachineIdentity } from '../../src/engine/machine-identity.js';

const HERE: MachineIdentity = { machine_id: 'aaaa1111', boot_id: 'boot-1', hostname: 'ctl', pid_ns: 'pid:[4026531836]' };

function owner(overrides: Partial<LockOwner> = {}): Partial<LockOwner> {
  return { run_id: 'r1', user: 'ops', control_host: 'ctl', pid: 4242, command: 'mirrorctl failover', started_at: '2026-12-01T00:00:00Z', ...HERE, start_time: 1000, ...overrides };
}

function sighting(overrides: Partial<LockSighting> = {}): LockSighting {
  return { here: HERE, owner: owner(), ageMs: 5000, process: { state: 'running', startTime: 1000 }, ...overrides };
}

describe('sameMachine', () => {
  it('needs the same non-empty machine id, boot id, hostname and pid namespace', () => {
    expect(sameMachine(HERE, { ...HERE })).toBe(true);
    expect(sameMachine(HERE, { ...HERE, pid_ns: 'pid:[4026532200]' })).toBe(false);
    expect(sameMachine(HERE, { ...HERE, boot_id: 'boot-2' })).toBe(false);
    expect(sameMachine(HERE, { ...HERE, hostname: 'other' })).toBe(false);
    expect(sameMachine(HERE, { ...HERE, machine_id: 'bbbb2222' })).toBe(false);
  });

  it('a missing or empty machine id is never the same machine, even on both sides', () => {
    expect(sameMachine({ ...HERE, machine_id: '' }, { ...HERE, machine_id: '' })).toBe(false);
    const { machine_id: _, ...noId } = HERE;
    expect(sameMachine(noId, HERE)).toBe(false);
    expect(sameMachine(noId, noId)).toBe(false);
  });

  it('another boot of the same machine is told apart from another machine', () => {
    expect(rebootedSince({ ...HERE, boot_id: 'boot-0' }, HERE)).toBe(true);
    expect(rebootedSince(HERE, HERE)).toBe(false);
    expect(rebootedSince({ ...HERE, boot_id: '' }, HERE)).toBe(false);
    expect(rebootedSince({ ...HERE, boot_id: 'boot-0', pid_ns: 'pid:[1]' }, HERE)).toBe(false);
  });
});

describe('judgeLock', () => {
  it('same machine, pid running with the recorded start time: live', () => {
    expect(judgeLock(sighting())).toMatchObject({ state: 'live' });
  });

  it('same machine, no such pid: stale', () => {
    expect(judgeLock(sighting({ process: { state: 'gone' } }))).toEqual({ state: 'stale', reason: 'pid 4242 is gone' });
  });

  it('differing only in the start time (the pid was reused): stale', () => {
    const verdict = judgeLock(sighting({ process: { state: 'running', startTime: 1001 } }));
    expect(verdict.state).toBe('stale');
    expect(verdict.reason).toMatch(/another process/);
  });

  it('a start time that cannot be read, or an owner that recorded none: the running pid counts as live', () => {
    expect(judgeLock(sighting({ process: { state: 'running', startTime: null } })).state).toBe('live');
    expect(judgeLock(sighting({ owner: owner({ start_time: null }), process: { state: 'running', startTime: 77 } })).state).toBe('live');
  });

  it('same machine id, hostname and pid namespace but another boot: stale, whatever the pid does now', () => {
    const verdict = judgeLock(sighting({ owner: owner({ boot_id: 'boot-0' }) }));
    expect(verdict.state).toBe('stale');
    expect(verdict.reason).toMatch(/rebooted/);
  });

  it('two owners differing only in pid namespace are two machines: cannot be judged, even with the pid gone here', () => {
    const verdict = judgeLock(sighting({ owner: owner({ pid_ns: 'pid:[4026532999]' }), process: { state: 'gone' } }));
    expect(verdict.state).toBe('unjudged');
    expect(verdict.reason).toMatch(/another machine/);
  });

  it('another machine id or hostname: cannot be judged', () => {
    expect(judgeLock(sighting({ owner: owner({ machine_id: 'bbbb2222' }), process: { state: 'gone' } })).state).toBe('unjudged');
    expect(judgeLock(sighting({ owner: owner({ hostname: 'bastion' }), process: { state: 'gone' } })).state).toBe('unjudged');
  });

  it('missing machine id (an owner.json from before version 4, or an unreadable /etc/machine-id): not the same machine', () => {
    const old = { run_id: 'old', user: 'ops', control_host: 'ctl', pid: 4242, command: 'mirrorctl failover', started_at: '2026-01-01T00:00:00Z' };
    expect(judgeLock(sighting({ owner: old, process: { state: 'gone' } })).state).toBe('unjudged');
    expect(judgeLock(sighting({ owner: owner({ machine_id: '' }), here: { ...HERE, machine_id: '' }, process: { state: 'gone' } })).state).toBe('unjudged');
  });

  it('same machine but no pid recorded: cannot be judged', () => {
    expect(judgeLock(sighting({ owner: owner({ pid: undefined }), process: null })).state).toBe('unjudged');
  });

  it('no readable owner: stale once older than a minute, else kept as young', () => {
    expect(judgeLock(sighting({ owner: null, ageMs: 61_000, process: null })).state).toBe('stale');
    expect(judgeLock(sighting({ owner: null, ageMs: 59_000, process: null })).state).toBe('young');
    expect(judgeLock(sighting({ owner: null, ageMs: null, process: null })).state).toBe('young');
    // JSON without a run id is no readable owner either
    expect(judgeLock(sighting({ owner: { pid: 1 }, ageMs: 120_000, process: null })).state).toBe('stale');
  });
});

describe('judgeFromControl', () => {
  const host: MachineIdentity = { machine_id: 'cccc3333', boot_id: 'boot-h', hostname: 'web1', pid_ns: 'pid:[4026531836]' };

  it('a host lock whose owner ran on the control machine asking is judged there', () => {
    const onHost = sighting({ here: host, process: { state: 'running', startTime: 5 } });
    expect(judgeLock(onHost).state).toBe('unjudged');
    const verdict = judgeFromControl(onHost, { here: HERE, process: { state: 'gone' } });
    expect(verdict.state).toBe('stale');
    expect(verdict.reason).toMatch(/control machine: pid 4242 is gone/);
    expect(judgeFromControl(onHost, { here: HERE, process: { state: 'running', startTime: 1000 } }).state).toBe('live');
  });

  it('an owner from a third machine stays unjudged', () => {
    const onHost = sighting({ here: host, owner: owner({ machine_id: 'dddd4444' }) });
    expect(judgeFromControl(onHost, { here: HERE, process: { state: 'gone' } }).state).toBe('unjudged');
  });
});
