import { describe, expect, it } from 'vitest';
import { Interrupt } from '../../src/engine/interrupt.js';

describe('Interrupt', () => {
  it('a hard stop runs the cleanups innermost first, does not wait for one that never ends, then exits 130', async () => {
    const exits: number[] = [];
    const interrupt = new Interrupt({ graceMs: 0, cleanupMs: 50 }, (code) => exits.push(code));
    const order: string[] = [];
    interrupt.beforeHardStop(() => void order.push('outer'));
    interrupt.beforeHardStop(() => new Promise(() => undefined));
    interrupt.beforeHardStop(async () => void order.push('inner'));
    await interrupt.hardStop();
    expect(order).toEqual(['inner', 'outer']);
    expect(exits).toEqual([130]);
  });

  it('a cleanup that was taken back does not run; a failing one does not stop the others', async () => {
    const exits: number[] = [];
    const interrupt = new Interrupt({ graceMs: 0, cleanupMs: 1000 }, (code) => exits.push(code));
    const ran: string[] = [];
    const forget = interrupt.beforeHardStop(() => void ran.push('forgotten'));
    interrupt.beforeHardStop(() => Promise.reject(new Error('host gone')));
    interrupt.beforeHardStop(() => void ran.push('kept'));
    forget();
    await interrupt.hardStop();
    expect(ran).toEqual(['kept']);
    expect(exits).toEqual([130]);
  });

  it('Ctrl-C once only asks to stop; twice aborts the commands and, after the grace, stops hard', async () => {
    let exited!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (exited = resolve));
    const interrupt = new Interrupt({ graceMs: 0, cleanupMs: 1000 }, (code) => exited(code));
    let released = false;
    interrupt.beforeHardStop(async () => void (released = true));
    interrupt.hit();
    expect(interrupt.requested).toBe(true);
    expect(interrupt.controller.signal.aborted).toBe(false);
    interrupt.hit();
    expect(interrupt.controller.signal.aborted).toBe(true);
    expect(await exit).toBe(130);
    expect(released).toBe(true);
  });
});
