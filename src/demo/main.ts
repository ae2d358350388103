// `npm run demo`: the whole story on the built-in lab, one readable command.
// lab up → status → switchover dry run → switchover → failover with the primary
// cut off → the old primary back and rejoined → switchover back → status.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/mirrorctl', import.meta.url));
const dir = resolve(process.env.MIRRORCTL_LAB_DIR ?? 'mirrorctl-lab');
const inventory = `${dir}/mirrorctl.yaml`;

function say(text: string): void {
  process.stdout.write(`\n\x1b[1m── ${text}\x1b[0m\n`);
}

/** Runs mirrorctl as an operator would; stops the demo if the exit code is not the expected one. */
function mirrorctl(args: string[], expect = 0): void {
  process.stdout.write(`$ mirrorctl ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit', env: { ...process.env, MIRRORCTL_CONFIG: inventory } });
  if (result.status !== expect) {
    process.stderr.write(`demo: \`mirrorctl ${args.join(' ')}\` exited ${result.status}, expected ${expect}; the lab is left as it is in ${dir}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const { labCut, labRestore } = await import('../commands/lab.js');
  say('1. Build the lab from nothing: web1 (primary, holds the portable IP) and web2 (streaming replica)');
  mirrorctl(['lab', 'down', '--dir', dir]);
  mirrorctl(['lab', 'up', '--dir', dir]);
  // What `lab up` tells the operator to do: the database password comes from the environment.
  process.stdout.write(`$ export WIKI_DB_PASSWORD="$(cat ${dir}/db-password)"\n`);
  process.env.WIKI_DB_PASSWORD = readFileSync(`${dir}/db-password`, 'utf8').trim();
  mirrorctl(['status']);

  say('2. Dry-run a planned switchover: every check runs, nothing changes');
  mirrorctl(['switchover', '--dry-run']);

  say('3. Switch over to web2 for real (zero data loss; web1 becomes the mirror)');
  mirrorctl(['switchover', '--yes']);
  mirrorctl(['status']);

  say('4. Disaster: web2, now the primary, is cut off (link down, every process killed)');
  await labCut(dir, 'web2');
  mirrorctl(['failover', '--yes']);
  mirrorctl(['status']);

  say('5. web2 comes back still thinking it is the primary: status warns of the split, rejoin mends it');
  await labRestore(dir, 'web2');
  mirrorctl(['status']);
  mirrorctl(['rejoin', 'web2', '--yes']);

  say('6. Switch back to web2 with a planned switchover');
  mirrorctl(['switchover', '--to', 'web2', '--yes']);
  mirrorctl(['status']);

  say(`Done. The lab keeps running in ${dir}; remove it with: mirrorctl lab down --dir ${dir}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  process.exit(1);
});
