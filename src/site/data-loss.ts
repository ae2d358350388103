import { HostUnreachableError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import type { HostPool } from '../transports/pool.js';
import { databaseState, type DatabaseState } from './database-state.js';
import { siteFacts, type SiteFact } from './facts.js';
import { lsnDiff } from './lsn.js';
import { controlData, databaseSettings, type ControlData } from './postgres-server.js';
import { timelineHistory } from './timeline-history.js';

/** The data-loss verdict of spec 10: `wal_bytes` 0 only when proven, null when it cannot be. */
export interface DataLoss {
  wal_bytes: number | null;
  basis: string;
  old_lsn: string | null;
  new_lsn: string | null;
}

/** How one database host stands when the run ends. */
interface EndState {
  host: string;
  reachable: boolean;
  state: DatabaseState | null;
  control: ControlData | null;
}

const JUDGE_TIMEOUT_MS = 15_000;
const CONTROL_TIMEOUT_MS = 10_000;

/**
 * Judges from the site as the run leaves it and from what this run saw on the way (its facts),
 * never from the playbook's name: which host is the primary now, whether it was promoted, and
 * whether the other one stopped cleanly at a checkpoint that the primary's timeline switched past.
 */
export async function judgeDataLoss(pool: HostPool, inventory: Inventory): Promise<DataLoss> {
  if (!inventory.doc.database) return unknown('the inventory has no database section: there are no WAL positions to judge');
  const facts = [...siteFacts(pool)];
  const hosts = inventory.doc.database.hosts;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), JUDGE_TIMEOUT_MS)));
  try {
    const ends = await Promise.race([Promise.all(hosts.map((host) => endState(pool, inventory, host))), late]);
    if (!ends) return unknown(`the database hosts did not answer within ${JUDGE_TIMEOUT_MS / 1000} s after the run, so nothing could be checked`);
    return await verdict(pool, inventory, facts, ends);
  } finally {
    clearTimeout(timer);
  }
}

/** The verdict proper: who is the primary now, whether it was promoted, and what proves or disproves a loss. */
async function verdict(pool: HostPool, inventory: Inventory, facts: SiteFact[], ends: EndState[]): Promise<DataLoss> {
  const primaries = ends.filter((e) => e.state?.role === 'primary');
  const promotions = facts.filter((f): f is Extract<SiteFact, { kind: 'promoted' }> => f.kind === 'promoted');
  if (primaries.length > 1) return unknown(`${primaries.map((p) => p.host).join(' and ')} are both primaries: writes may have gone to either`);
  if (primaries.length === 0) {
    if (promotions.length === 0) return noPromotion();
    return unknown(`this run promoted ${promotions.at(-1)!.host}, but no database primary answers now`);
  }
  const primary = primaries[0]!;
  const newHost = primary.host;
  const oldHost = ends.find((e) => e.host !== newHost)!;
  const newTimeline = primary.state!.timeline;
  const promotedHere = promotions.find((p) => p.host === newHost) ?? null;
  const oldTimeline = firstTimeline(facts, oldHost.host) ?? endTimeline(oldHost);
  if (!promotedHere) {
    const firstOfNew = facts.find((f): f is Extract<SiteFact, { kind: 'state' }> => f.kind === 'state' && f.host === newHost && f.state.role !== 'down');
    const sameTimeline = oldTimeline !== null ? oldTimeline === newTimeline : firstOfNew?.state.role === 'primary' && firstOfNew.state.timeline === newTimeline;
    if (sameTimeline) return noPromotion();
  }

  const promotedAt = promotedHere?.at ?? Number.POSITIVE_INFINITY;
  const controls = facts.filter((f): f is Extract<SiteFact, { kind: 'control' }> => f.kind === 'control' && f.host === oldHost.host && f.at <= promotedAt);
  const cleanStop = controls.filter((f) => f.control.state === 'shut down').at(-1)?.control ?? (oldHost.control?.state === 'shut down' ? oldHost.control : null);
  const crashed = controls.filter((f) => !['shut down', 'shut down in recovery', 'in archive recovery'].includes(f.control.state)).at(-1)?.control ?? null;
  const leftTimeline = cleanStop?.timeline ?? oldTimeline;

  let switchpoint: string | null = null;
  let historyProblem: string | null = null;
  try {
    const history = newTimeline ? await timelineHistory(pool, inventory, newHost, newTimeline) : [];
    switchpoint = (leftTimeline !== null ? history.find((h) => h.parent === leftTimeline) : history.at(-1))?.switchpoint ?? null;
  } catch (error) {
    historyProblem = `${newHost}'s timeline history could not be read (${(error as Error).message})`;
  }

  if (cleanStop && switchpoint && lsnDiff(switchpoint, cleanStop.checkpointLsn) > 0n) {
    return {
      wal_bytes: 0,
      basis: `${oldHost.host} was shut down cleanly (pg_controldata: "shut down") at checkpoint ${cleanStop.checkpointLsn}, and ${newHost} left timeline ${leftTimeline} at ${switchpoint}, past it: every write ${oldHost.host} committed was replayed on ${newHost} before it was promoted`,
      old_lsn: cleanStop.checkpointLsn,
      new_lsn: switchpoint,
    };
  }

  const known: string[] = [];
  if (cleanStop) known.push(`${oldHost.host} was shut down cleanly at checkpoint ${cleanStop.checkpointLsn}, but ${newHost} ${switchpoint ? `left timeline ${leftTimeline} at ${switchpoint}, not past it` : 'shows no switch from its timeline'}`);
  else if (crashed) known.push(`${oldHost.host}'s database had crashed (pg_controldata: "${crashed.state}", last checkpoint ${crashed.checkpointLsn}): WAL it wrote after that checkpoint may not have reached ${newHost}`);
  else if (!oldHost.reachable) known.push(`${oldHost.host} ${pool.lostDuringRun(oldHost.host) ? 'stopped answering during the run' : 'could not be reached'}, so nothing proves every write it committed reached ${newHost}`);
  else known.push(`${oldHost.host} was never seen shut down cleanly by this run`);
  const beforePromotion = facts.filter((f): f is Extract<SiteFact, { kind: 'state' }> => f.kind === 'state' && f.host === newHost && f.state.role === 'replica' && f.at <= promotedAt).at(-1)?.state;
  if (beforePromotion) {
    known.push(`${newHost} had received ${beforePromotion.receiveLsn ?? 'nothing by streaming'} and replayed ${beforePromotion.replayLsn ?? 'nothing'} when ${promotedHere ? 'it was promoted' : 'this run last saw it in recovery'}`);
  }
  if (switchpoint) known.push(`its timeline ${newTimeline} began at ${switchpoint}`);
  if (historyProblem) known.push(historyProblem);
  const lastOld = lastPosition(facts, oldHost.host);
  known.push(lastOld ? `the last position of ${oldHost.host} seen by this run was ${lastOld}` : `this run saw no WAL position of ${oldHost.host}`);
  return {
    wal_bytes: null,
    basis: known.join('; '),
    old_lsn: cleanStop?.checkpointLsn ?? crashed?.checkpointLsn ?? lastOld,
    new_lsn: switchpoint ?? beforePromotion?.replayLsn ?? null,
  };
}

/** How a host stands now: its database state, and pg_controldata when its server is down. */
async function endState(pool: HostPool, inventory: Inventory, host: string): Promise<EndState> {
  if (pool.known(host) === 'unreachable') return { host, reachable: false, state: null, control: null };
  try {
    const state = await databaseState(pool, inventory, host);
    if (state.role !== 'down') return { host, reachable: true, state, control: null };
    const control = await controlData(await pool.get(host), databaseSettings(inventory), CONTROL_TIMEOUT_MS).catch(() => null);
    return { host, reachable: true, state, control };
  } catch (error) {
    return { host, reachable: !(error instanceof HostUnreachableError), state: null, control: null };
  }
}

/** The timeline a host was on when this run first saw it. */
function firstTimeline(facts: SiteFact[], host: string): number | null {
  for (const fact of facts) {
    if (fact.host !== host) continue;
    if (fact.kind === 'state' && fact.state.role !== 'down' && fact.state.timeline !== null) return fact.state.timeline;
    if (fact.kind === 'control') return fact.control.timeline;
  }
  return null;
}

/** The timeline a host is on now (its state, else its control file). */
function endTimeline(end: EndState): number | null {
  return end.state?.timeline ?? end.control?.timeline ?? null;
}

/** The latest WAL position this run saw of a host: its current LSN as a primary, or a checkpoint on disk. */
function lastPosition(facts: SiteFact[], host: string): string | null {
  for (const fact of [...facts].reverse()) {
    if (fact.host !== host) continue;
    if (fact.kind === 'state' && fact.state.currentLsn) return fact.state.currentLsn;
    if (fact.kind === 'state' && fact.state.replayLsn) return fact.state.replayLsn;
    if (fact.kind === 'control') return fact.control.checkpointLsn;
  }
  return null;
}

/** Nothing was promoted: nothing could be lost by a promotion (spec 10). */
function noPromotion(): DataLoss {
  return { wal_bytes: 0, basis: 'no promotion', old_lsn: null, new_lsn: null };
}

/** A verdict that cannot be proven, with what is known. */
function unknown(basis: string): DataLoss {
  return { wal_bytes: null, basis, old_lsn: null, new_lsn: null };
}
