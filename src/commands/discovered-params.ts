import { ConfigError } from '../errors.js';

// Parameters that failover, switchover and rejoin discover themselves: a `--set` of one
// is a usage error (spec 7); `run` discovers nothing, so it accepts every parameter.

export type SiteCommand = 'failover' | 'switchover' | 'rejoin';

/** For each discovered parameter: what the command does instead, and what the operator should use. */
const DISCOVERED: Record<SiteCommand, Record<string, (value: string) => { why: string; instead: string }>> = {
  failover: {
    to: (value) => ({ why: 'the target comes from --to, else the single reachable replica', instead: `use --to ${value} instead` }),
    from: () => ({ why: 'it is the other host of database.hosts', instead: 'use --to HOST to choose the target instead' }),
  },
  switchover: {
    to: (value) => ({ why: 'the target comes from --to, else the single reachable replica', instead: `use --to ${value} instead` }),
    from: () => ({ why: 'it is the other host of database.hosts', instead: 'use --to HOST to choose the target instead' }),
  },
  rejoin: {
    host: (value) => ({ why: 'the host to rejoin is the HOST argument', instead: `use mirrorctl rejoin ${value} instead` }),
    primary: () => ({ why: 'it is the other host of database.hosts', instead: 'name the host to rejoin as the HOST argument instead (mirrorctl rejoin HOST)' }),
  },
};

// Throws a usage error (exit 2) for the first `--set` of a parameter the command discovers itself.
export function refuseDiscoveredSets(command: SiteCommand, set: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(set)) {
    const explain = DISCOVERED[command][name];
    if (!explain) continue;
    const { why, instead } = explain(value);
    throw new ConfigError(`--set ${name}=${value}: ${command} sets "${name}" itself (${why})`, { hint: instead });
  }
}
