import { describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/engine/events.js';
import { StepLife } from '../../src/engine/step-life.js';
import type { StepSpec } from '../../src/playbook/schema.js';

const SPEC: StepSpec = {
  id: 'promote',
  action: 'postgres.promote',
  name: null,
  host: 'web2',
  with: {},
  when: {},
  optional: false,
  ignoreErrors: false,
  timeoutMs: 1000,
  retries: 1,
  uses: [],
  line: 1,
};

function recorded(): { bus: EventBus; events: RunEvent[] } {
  const bus = new EventBus();
  const events: RunEvent[] = [];
  bus.on((e) => events.push(e));
  return { bus, events };
}

describe('a step life', () => {
  it('check, apply, verify, a retry, then one end: the events in that order, from one object', () => {
    const { bus, events } = recorded();
    const life = new StepLife(bus, SPEC);
    life.checked('web2', { status: 'ready', summary: 'replica, will promote' });
    life.applied('web2', 5, 'failed: timeout');
    life.applied('web2', 7, 'promoted');
    life.verified('web2', 3, 'accepts writes');
    life.end('changed');
    life.end('failed', 'too late');
    expect(events.map((e) => e.event)).toEqual(['step.check', 'step.apply', 'step.apply', 'step.verify', 'step.end']);
    expect(events.at(-1)).toMatchObject({ event: 'step.end', step: 'promote', outcome: 'changed' });
    expect(life.state).toBe('changed');
  });

  it('ended from outside (a second Ctrl-C): what the step still does is not recorded', () => {
    const { bus, events } = recorded();
    const life = new StepLife(bus, SPEC);
    life.checked('web2', { status: 'ready', summary: 'x' });
    life.end('failed', 'stopped at once by a second Ctrl-C before it ended');
    life.applied('web2', 5, 'promoted');
    life.end('changed');
    expect(events.map((e) => e.event)).toEqual(['step.check', 'step.end']);
    expect(life.state).toBe('failed');
  });

  it('a transition out of order is a bug, said as one', () => {
    const { bus } = recorded();
    const life = new StepLife(bus, SPEC);
    expect(() => life.applied('web2', 1, 'x')).toThrow(/cannot apply in state pending/);
    life.checked('web2', { status: 'ready', summary: 'x' });
    expect(() => life.checked('web2', { status: 'ready', summary: 'x' })).toThrow(/cannot check in state checked/);
  });
});
