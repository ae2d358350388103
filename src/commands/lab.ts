import { labNames, resolveLabDir, SSH_PORT } from '../lab/paths.js';

// `mirrorctl lab up|down|status [--dir DIR]`: the local sandbox site (spec section 9).
// Progress goes to stderr; the "what now" (or JSON with --json) to stdout.

export interface LabOptions {
  dir: string;
  json?: boolean;
  /** No progress lines on stderr (tests). */
  quiet?: boolean;
}

function progressFor(options: LabOptions): (line: string) => void {
  return options.quiet ? () => undefined : (line) => process.stderr.write(`lab: ${line}\n`);
}

/** Builds the lab (or completes and checks a running one) and says how to use it. */
export async function labUp(options: LabOptions): Promise<void> {
  const { labUpAt } = await import('../lab/up.js');
  const dir = resolveLabDir(options.dir);
  const started = performance.now();
  const state = await labUpAt(dir, progressFor(options));
  const inventory = `${dir}/mirrorctl.yaml`;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ dir, inventory, subnet: `${state.subnet}.0/24`, portable_ip: state.portableCidr, hosts: { web1: state.nodes.web1.address, web2: state.nodes.web2.address, client: state.nodes.client.address } })}\n`);
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  // Roles as they are now: on a second `lab up` mirrorctl may have moved the site.
  const { labStatusAt } = await import('../lab/status.js');
  const status = await labStatusAt(dir);
  const hosts = status.hosts.map((h) => `${h.name} ${h.address} (PostgreSQL ${h.postgres}${h.holds_portable_ip ? `, portable IP ${state.portableIp}` : ''})`);
  process.stdout.write(
    [
      `The lab is up in ${dir} (${seconds} s): ${hosts.join(', ')}, client ${state.nodes.client.address}.`,
      '',
      'What now:',
      `  export MIRRORCTL_CONFIG=${inventory}`,
      `  export WIKI_DB_PASSWORD="$(cat ${dir}/db-password)"   # the database password (file mode 600)`,
      '  mirrorctl status',
      '  mirrorctl switchover --dry-run',
      `  curl http://${state.portableIp}/health`,
      `  ssh -i ${dir}/id_ed25519 -o UserKnownHostsFile=${dir}/known_hosts -p ${SSH_PORT} ${labNames(dir).user}@${state.nodes.web1.address}   # root logins are refused: sudo`,
      `  mirrorctl lab down --dir ${dir}     # removes every trace`,
      '',
    ].join('\n'),
  );
}

/** Removes every trace of the lab; harmless when nothing is up. */
export async function labDown(options: LabOptions): Promise<void> {
  const { labDownAt } = await import('../lab/down.js');
  const dir = resolveLabDir(options.dir);
  const { wasUp } = await labDownAt(dir, progressFor(options));
  if (options.json) process.stdout.write(`${JSON.stringify({ dir, was_up: wasUp, up: false })}\n`);
  else process.stdout.write(wasUp ? `The lab in ${dir} is down; nothing is left behind.\n` : `No lab was up in ${dir}; nothing to do.\n`);
}

/** Prints which parts of the lab run (JSON with --json). */
export async function labStatus(options: LabOptions): Promise<void> {
  const { labStatusAt } = await import('../lab/status.js');
  const status = await labStatusAt(resolveLabDir(options.dir));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(status)}\n`);
    return;
  }
  if (!status.up && status.hosts.length === 0) {
    process.stdout.write(`No lab in ${status.dir}.\n`);
    return;
  }
  const lines = [`Lab ${status.dir}: subnet ${status.subnet}, bridge ${status.bridge} ${status.up ? 'up' : 'DOWN'}, portable IP ${status.portable_ip}`];
  for (const host of status.hosts) {
    lines.push(
      `  ${host.name.padEnd(6)} ${host.address.padEnd(14)} link ${host.link.padEnd(7)} ` +
        `sshd ${host.sshd ? 'running' : 'DOWN'}, postgres ${host.postgres}, memcached ${host.memcached ? 'up' : 'DOWN'}, ` +
        `web app ${host.webapp.health === 'ok' ? `up (sessions ${host.webapp.session_mode})` : 'DOWN'}${host.holds_portable_ip ? ', holds the portable IP' : ''}`,
    );
  }
  if (status.client) lines.push(`  client ${status.client.address.padEnd(14)} link ${status.client.link}`);
  lines.push(`Inventory: ${status.inventory}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
