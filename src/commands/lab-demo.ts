// `mirrorctl lab demo [--dir DIR]` (what `npm run demo` runs): the whole story on the lab,
// one readable command. lab up → status → switchover dry run → switchover → failover with
// the primary cut off → the old primary back and rejoined → switchover back → status.
// Each step runs mirrorctl as an operator would, as a child process with its real output.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StepFailedError } from '../errors.js';
import { labCut, labRestore } from '../lab/cut.js';
import { resolveLabDir } from '../lab/paths.js';

const BIN = fileURLToPath(new URL('../../bin/mirrorctl', import.meta.url));

export async function labDemo(options: { dir: string }): Promise<number> {
  const dir = resolveLabDir(options.dir);
  const env: NodeJS.ProcessEnv = { ...process.env, MIRRORCTL_CONFIG: `${dir}/mirrorctl.yaml` };
  const say = (text: string) => process.stdout.write(`\n\x1b[1m── ${text}\x1b[0m\n`);
  /** Runs mirrorctl as an operator would; ends the demo if the exit code is not the expected one. */
  const mirrorctl = (args: string[], expect = 0) => {
    process.stdout.write(`$ mirrorctl ${args.join(' ')}\n`);
    const result = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit', env });
    if (result.status !== expect) {
      throw new StepFailedError(`demo: \`mirrorctl ${args.join(' ')}\` exited ${result.status}, expected ${expect}`, { hint: `the lab is left as it is in ${dir}` });
    }
  };

  say('1. Build the lab from nothing: web1 (primary, holds the portable IP) and web2 (streaming replica)');
  mirrorctl(['lab', 'down', '--dir', dir]);
  mirrorctl(['lab', 'up', '--dir', dir]);
  // What `lab up` tells the operator to do: the database password comes from the environment.
  process.stdout.write(`$ export WIKI_DB_PASSWORD="$(cat ${dir}/db-password)"\n`);
  env.WIKI_DB_PASSWORD = readFileSync(`${dir}/db-password`, 'utf8').trim();
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
  return 0;
}
