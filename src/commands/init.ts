import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, MirrorError } from '../errors.js';
import { buildHosts } from '../inventory/hosts.js';
import type { Inventory, InventoryDocument } from '../inventory/schema.js';
import type { Transport } from '../transports/types.js';
import { printable } from '../reporters/printable.js';
import type { Asker } from '../init/ask.js';
import type { AcceptedKey, KeyTrust } from '../init/connect.js';
import type { HostFacts } from '../init/discover-host.js';
import { answersFromFlags, type Answers, type InitOptions } from '../init/options.js';
import { existing } from '../init/record.js';

/**
 * `mirrorctl init`: ask (on a terminal) or take flags, connect to both hosts, find what
 * they can tell, write a commented inventory. Exit 0 (passes validate), 5 (placeholders
 * left, each named on stderr); nothing is written on 2, 3 or 130.
 */
export async function initCommand(options: InitOptions): Promise<number> {
  const answers = answersFromFlags(options);
  const output = options.output ?? options.config ?? 'mirrorctl.yaml';
  if (existsSync(output) && !options.force) throw existing(output);
  let asker: Asker | null = null;
  if (!options.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new ConfigError('mirrorctl init has no terminal to ask on', { hint: 'pass --yes and give the answers as flags (mirrorctl init --help lists them)' });
    }
    asker = (await import('../init/ask.js')).terminalAsker();
    await (await import('../init/questions.js')).askConnection(answers, asker);
  }
  if (answers.hosts.length !== 2) throw new ConfigError('mirrorctl init needs the two hosts of the site', { hint: 'give --host NAME=ADDRESS twice' });

  const say = (line: string) => process.stderr.write(`${printable(line)}\n`);
  const inventory = connectionInventory(answers, output);
  const trust: KeyTrust = { accepted: answers.acceptedKeys, ask: asker ? (q) => asker.yesNo(q, false) : null };
  const { connectTrusting } = await import('../init/connect.js');
  const transports: Transport[] = [];
  const accepted: AcceptedKey[] = [];
  let facts: HostFacts[];
  try {
    for (const host of inventory.hosts.values()) {
      const connected = await connectTrusting(host, inventory, trust);
      transports.push(connected.transport);
      if (connected.accepted) accepted.push(connected.accepted);
    }
    const { discoverHost, readSessionLines } = await import('../init/discover-host.js');
    const portable = answers.portableIp?.split('/')[0] ?? null;
    facts = await Promise.all(
      answers.hosts.map((h, i) => discoverHost(transports[i]!, { ...h, portableIp: portable, dbPort: answers.dbPort, sessionsFile: answers.sessions.file ?? null })),
    );
    const { describeHost } = await import('../init/summary.js');
    for (const f of facts) say(describeHost(f));
    if (asker) await (await import('../init/questions.js')).askSite(answers, facts, asker, (file) => readSessionLines(transports[0]!, file));
  } finally {
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
  }

  const { buildDraft, placeholders } = await import('../init/draft.js');
  const { renderInventory } = await import('../init/render.js');
  const draft = buildDraft(answers, facts);
  const todo = placeholders(draft);
  for (const warning of draft.warnings) say(`warning: ${warning}`);
  const text = renderInventory(draft, { written: new Date().toISOString().slice(0, 10) });
  if (asker && !(await asker.yesNo(`Write ${output}${todo.length > 0 ? ` (${todo.length} thing(s) left to fill in)` : ''}?`, true))) {
    throw new MirrorError('declined: nothing was written', 130);
  }

  const { writeInventory, recordHostKeys } = await import('../init/record.js');
  await writeInventory(output, text, options.force === true);
  await recordHostKeys(accepted);
  for (const key of accepted) say(`recorded ${key.host}'s host key ${key.fingerprint} in ${key.file}`);
  for (const t of todo) say(`TODO ${t.key}: ${t.what}; e.g. ${t.example}`);
  const problem = await validationProblem(output);
  if (todo.length === 0 && problem) throw problem;
  const code = todo.length > 0 ? 5 : 0;
  if (options.json) {
    process.stdout.write(JSON.stringify({ file: output, site: answers.site, exit_code: code, placeholders: todo, warnings: draft.warnings, host_keys_recorded: accepted.map((k) => ({ host: k.host, fingerprint: k.fingerprint, file: k.file })) }) + '\n');
  } else if (code === 0) {
    process.stdout.write(`wrote ${output}: it passes validate. Next: mirrorctl -c ${output} switchover --dry-run\n`);
  } else {
    process.stdout.write(`wrote ${output} with ${todo.length} placeholder(s) to fill in (the "# TODO" lines); then: mirrorctl validate -c ${output}\n`);
  }
  return code;
}

/** The inventory as far as connecting goes: hosts and SSH settings merged exactly as every run merges them. */
function connectionInventory(answers: Answers, output: string): Inventory {
  const ssh: Record<string, unknown> = {};
  if (answers.ssh.user) ssh.user = answers.ssh.user;
  if (answers.ssh.port) ssh.port = answers.ssh.port;
  if (answers.ssh.identityFile) ssh.identity_file = answers.ssh.identityFile;
  if (answers.ssh.knownHosts) ssh.known_hosts = answers.ssh.knownHosts;
  const doc = {
    site: answers.site ?? 'site',
    ssh,
    hosts: Object.fromEntries(answers.hosts.map((h) => [h.name, { address: h.address }])),
  } as unknown as InventoryDocument;
  const dir = path.dirname(path.resolve(output));
  return { file: output, dir, doc, site: doc.site, hosts: buildHosts(doc, dir), lineOf: () => null };
}

/** What `mirrorctl validate` would say of the written file (null: it passes). */
async function validationProblem(file: string): Promise<MirrorError | null> {
  const { loadInventory } = await import('../inventory/load.js');
  const { listPlaybooks } = await import('../playbook/locate.js');
  const { loadPlaybook } = await import('../playbook/load.js');
  const { actionInfo, actionRegistry } = await import('../actions/registry.js');
  try {
    const inventory = await loadInventory(file);
    const actions = actionInfo(actionRegistry());
    for (const playbook of await listPlaybooks(inventory.dir)) await loadPlaybook(playbook.file, { inventory, actions, validateOnly: true });
    return null;
  } catch (error) {
    if (error instanceof MirrorError) return error;
    throw error;
  }
}
