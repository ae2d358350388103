import { readFile } from 'node:fs/promises';
import type { Transport } from '../../src/transports/types.js';
import { connectSsh, hostPath, loadInventory, nsenterArgs } from './product.js';
import type { BenchLab } from './lab-site.js';
import { pairRatios, summarize } from './measure.js';
import type { Row } from './row.js';
import { timedRun } from './timed-process.js';

// One remote command on mirrorctl's reused SSH connection (ssh2) against the cost of
// entering the host with nsenter and running `true`; sshd's log shows how many
// connections were opened for the whole series.

const SSHD_LOG = '/srv/lab/log/sshd.log';

async function acceptedConnections(lab: BenchLab): Promise<number> {
  const log = await readFile(hostPath(lab.names, 'web1', SSHD_LOG), 'utf8').catch(() => '');
  return log.split('\n').filter((line) => line.includes('Accepted publickey')).length;
}

export async function measureRemoteCommand(lab: BenchLab, rounds: number): Promise<Row> {
  const measurement = 'Remote command `true` on a reused SSH connection';
  const base: Omit<Row, 'mirrorctl' | 'comparison' | 'ratio' | 'met' | 'status' | 'samples'> = {
    id: 'remote-command',
    measurement,
    unit: 'ms',
    comparisonLabel: '`nsenter` into the host, `true`',
    target: 'after the first, no new connection',
    meaning: '',
  };
  let transport: Transport | null = null;
  try {
    const inventory = await loadInventory(lab.inventory);
    const host = inventory.hosts.get('web1');
    if (!host) throw new Error('web1 is not in the lab inventory');
    const before = await acceptedConnections(lab);
    const connectStarted = performance.now();
    transport = await connectSsh(host, inventory);
    const connectMs = performance.now() - connectStarted;
    const first = await transport.exec('true');
    const sshMs: number[] = [];
    const nsMs: number[] = [];
    const args = [...nsenterArgs(lab.names, 'web1'), '--', 'true'];
    for (let i = 0; i < rounds; i += 1) {
      const result = await transport.exec('true');
      if (result.exitCode !== 0) throw new Error(`\`true\` exited ${result.exitCode} on web1: ${result.stderr.trim()}`);
      sshMs.push(result.durationMs);
      nsMs.push((await timedRun('nsenter', args)).ms);
    }
    await transport.close();
    transport = null;
    // sshd logs asynchronously; give it a moment.
    await new Promise((r) => setTimeout(r, 200));
    const opened = (await acceptedConnections(lab)) - before;
    return {
      ...base,
      mirrorctl: summarize(sshMs),
      comparison: summarize(nsMs),
      ratio: summarize(pairRatios(sshMs, nsMs)),
      met: opened === 1,
      status: 'ok',
      note: `${opened} SSH connection(s) accepted by sshd for ${rounds + 1} commands; connect ${connectMs.toFixed(0)} ms, first command ${first.durationMs.toFixed(1)} ms`,
      samples: { ssh_ms: sshMs, nsenter_ms: nsMs, connect_ms: connectMs, first_command_ms: first.durationMs, connections_opened: opened },
    };
  } catch (error) {
    await transport?.close().catch(() => undefined);
    return { ...base, mirrorctl: null, comparison: null, ratio: null, met: null, status: 'failed', note: (error as Error).message.split('\n')[0], samples: {} };
  }
}
