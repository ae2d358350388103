// What the network tests share: the lab, playbooks written in a temp dir, runs of the
// real CLI with --json, and the lab's real state read directly (never mirrorctl's word).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, runCli } from '../helpers/cli.js';
import { ensureLab, type LabHostName, type LabNodeName, type TestLab } from '../helpers/lab.js';

export interface NetworkSite {
  lab: TestLab;
  dir: string;
  /** Writes a playbook with these steps (YAML list text) and returns its path. */
  playbook(name: string, steps: string): string;
  /** A copy of the lab's inventory with `edit` applied to its text. */
  inventoryCopy(name: string, edit: (text: string) => string): string;
  /** `mirrorctl run FILE -c INVENTORY --yes --json`, with stdout parsed (every line must be JSON). */
  run(playbook: string, inventory?: string, extra?: string[]): Promise<RunOutcome>;
}

export interface RunOutcome {
  code: number | null;
  stderr: string;
  events: Array<Record<string, any>>;
  /** The step.check events of a step, plan first. */
  checks(step: string): Array<Record<string, any>>;
  end(step: string): Record<string, any> | undefined;
}

export async function networkSite(): Promise<NetworkSite> {
  const lab = await ensureLab();
  const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-net-'));
  const stateDir = join(dir, 'state');
  return {
    lab,
    dir,
    playbook(name, steps) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `name: ${name}\nsummary: ${name} (network test)\nsteps:\n${steps}`);
      return file;
    },
    inventoryCopy(name, edit) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, edit(readFileSync(lab.inventory, 'utf8')));
      return file;
    },
    async run(playbook, inventory = lab.inventory, extra = []) {
      const result = await runCli(['run', playbook, '-c', inventory, '--yes', '--json', ...extra], { env: { XDG_STATE_HOME: stateDir } });
      const parsed = events(result.stdout);
      return {
        code: result.code,
        stderr: result.stderr,
        events: parsed,
        checks: (step) => parsed.filter((e) => e.event === 'step.check' && e.step === step),
        end: (step) => parsed.find((e) => e.event === 'step.end' && e.step === step),
      };
    },
  };
}

/** Nodes that have the portable IP on any interface (any prefix), asked inside their namespaces. */
export async function ipHoldersInLab(lab: TestLab): Promise<LabNodeName[]> {
  const nodes: LabNodeName[] = ['web1', 'web2', 'client'];
  const found = await Promise.all(nodes.map(async (node) => (await lab.hostExec(node, 'ip -o -4 addr show')).stdout));
  return nodes.filter((_, i) => found[i]!.split(/\s+/).some((word) => word.split('/')[0] === lab.portableIp));
}

/** A node's MAC on the lab network, lower case. */
export async function macInLab(lab: TestLab, node: LabNodeName): Promise<string> {
  const out = (await lab.hostExec(node, `ip -o link show dev ${lab.iface[node]}`)).stdout;
  return /link\/ether\s+(\S+)/.exec(out)![1]!.toLowerCase();
}

/** The MACs that answer ARP for the portable IP, asked from the client namespace. */
export async function arpFromClient(lab: TestLab): Promise<string[]> {
  const out = (await lab.hostExec('client', `arping -b -w 1 -I eth0 ${lab.portableIp}`)).stdout;
  return [...new Set([...out.matchAll(/\[([0-9A-Fa-f:]{17})\]/g)].map((m) => m[1]!.toLowerCase()))];
}

/** Puts the lab back as built: the portable IP on web1 only (and not in the client). */
export async function portableIpBackOnWeb1(lab: TestLab): Promise<void> {
  await lab.hostExec('client', `ip addr del ${lab.portableCidr} dev ${lab.iface.client} 2>/dev/null; true`);
  await lab.hostExec('web2', `ip addr del ${lab.portableCidr} dev ${lab.iface.web2} 2>/dev/null; true`);
  await lab.hostExec('web1', `ip addr add ${lab.portableCidr} dev ${lab.iface.web1} 2>/dev/null; true`);
}

export type { LabHostName, TestLab };
