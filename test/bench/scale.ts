import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAB_HOSTS } from './product.js';
import type { BenchLab } from './lab-site.js';
import { alternate, pairRatios, summarize } from './measure.js';
import { mirrorctl } from './mirrorctl.js';
import type { Row } from './row.js';
import { dryRunProblem, statusProblem } from './status.js';
import type { TimedRun } from './timed-process.js';

// Scale: `status` and `switchover --dry-run` against inventories listing 1, 8 and 32
// memcached servers (extra instances on the lab hosts, on ports from 11212 up).

const SIZES = [1, 8, 32] as const;
const EXTRA_PER_HOST = 15;
const FIRST_EXTRA_PORT = 11212;
const pidFile = (port: number) => `/run/memcached/bench-${port}.pid`;

function extraPorts(): number[] {
  return Array.from({ length: EXTRA_PER_HOST }, (_, i) => FIRST_EXTRA_PORT + i);
}

/** Starts the extra memcached instances on both hosts. */
async function startExtraMemcached(lab: BenchLab): Promise<void> {
  await Promise.all(
    LAB_HOSTS.map(async (host) => {
      const lines = extraPorts().map((port) => `memcached -u memcache -l ${lab.address(host)} -p ${port} -U 0 -m 8 -d -P ${pidFile(port)}`);
      const result = await lab.exec(host, ['set -e', 'install -d -m 0755 -o memcache -g memcache /run/memcached', ...lines].join('\n'));
      if (result.exitCode !== 0) throw new Error(`cannot start extra memcached on ${host}: ${result.stderr.trim()}`);
    }),
  );
}

/** Stops them (by their pid files). */
export async function stopExtraMemcached(lab: BenchLab): Promise<void> {
  const kills = extraPorts().map((port) => `[ -s ${pidFile(port)} ] && kill "$(cat ${pidFile(port)})" 2>/dev/null; rm -f ${pidFile(port)}`);
  await Promise.all(LAB_HOSTS.map((host) => lab.exec(host, kills.join('\n'))));
}

/** The memcached servers of an inventory of `size` servers: the two base ones first, then extras alternating hosts. */
function serversFor(lab: BenchLab, size: number): string[] {
  const all = [`${lab.address('web1')}:11211`, `${lab.address('web2')}:11211`];
  for (const port of extraPorts()) for (const host of LAB_HOSTS) all.push(`${lab.address(host)}:${port}`);
  return all.slice(0, size);
}

/** Writes a copy of the lab inventory with `size` memcached servers; returns its path. */
async function inventoryWith(lab: BenchLab, size: number): Promise<string> {
  const text = await readFile(lab.inventory, 'utf8');
  const servers = JSON.stringify(serversFor(lab, size));
  const replaced = text.replace(/^(memcached:\n\s+servers:\s*).*$/m, `$1${servers}`);
  if (replaced === text) throw new Error(`cannot find memcached.servers in ${lab.inventory}`);
  const path = join(lab.dir, `bench-memcached-${size}.yaml`);
  await writeFile(path, replaced);
  return path;
}

function scaleRow(id: string, measurement: string, bySize: TimedRun[][], problem: (run: TimedRun) => string | null): Row {
  const ms = bySize.map((runs) => runs.map((r) => r.ms));
  const ratio = summarize(pairRatios(ms[2]!, ms[0]!));
  const failedRun = bySize.flat().find((r) => problem(r) !== null);
  const eight = summarize(ms[1]!);
  return {
    id,
    measurement,
    unit: 'ms',
    mirrorctl: summarize(ms[2]!),
    comparisonLabel: 'same with 1 server',
    comparison: summarize(ms[0]!),
    ratio,
    target: '32 servers ≤ 2x of 1',
    met: failedRun || !ratio ? null : ratio.median <= 2,
    status: failedRun ? 'failed' : 'ok',
    note: failedRun ? problem(failedRun)! : `8 servers: median ${eight?.median.toFixed(0)} ms`,
    meaning: '',
    samples: Object.fromEntries(SIZES.map((size, i) => [`servers_${size}_ms`, ms[i]])),
  };
}

export async function measureScale(lab: BenchLab, rounds: number): Promise<Row[]> {
  await startExtraMemcached(lab);
  try {
    const inventories = await Promise.all(SIZES.map((size) => inventoryWith(lab, size)));
    const status = (inv: string) => () => mirrorctl(['status', '--json', '-c', inv], lab.stateHome);
    const dry = (inv: string) => () => mirrorctl(['switchover', '--dry-run', '-c', inv], lab.stateHome);
    const results = await alternate(rounds, [...inventories.map(status), ...inventories.map(dry)]);
    return [
      scaleRow('scale-status', 'Scale: `status`, 32 vs 1 memcached servers', results.slice(0, 3), statusProblem),
      scaleRow('scale-dry-run', 'Scale: `switchover --dry-run`, 32 vs 1 memcached servers', results.slice(3, 6), dryRunProblem),
    ];
  } finally {
    await stopExtraMemcached(lab);
  }
}
