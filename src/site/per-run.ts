import type { HostPool } from '../transports/pool.js';

/**
 * State a site module keeps for one run, keyed by the run's pool: made on first use,
 * and forgotten when the pool closes (after `close`, if given, has ended it).
 */
export class PerRun<T> {
  private readonly states = new WeakMap<HostPool, T>();

  constructor(
    private readonly create: () => T,
    private readonly close?: (state: T) => Promise<void>,
  ) {}

  /** The pool's state if it has one (never makes it). */
  peek(pool: HostPool): T | undefined {
    return this.states.get(pool);
  }

  /** The pool's state, made (and its closing registered) on first use. */
  of(pool: HostPool): T {
    const known = this.states.get(pool);
    if (known !== undefined) return known;
    const state = this.create();
    this.states.set(pool, state);
    pool.onClose(async () => {
      try {
        await this.close?.(state);
      } finally {
        if (this.states.get(pool) === state) this.states.delete(pool);
      }
    });
    return state;
  }
}
