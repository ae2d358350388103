import { chmod, chown, rm, writeFile } from 'node:fs/promises';
import { run, runOk } from './exec.js';
import { writeHostFile } from './host-files.js';
import { userIds } from './mount-namespace.js';
import { hostPath, LAB_HOSTS, userHome, type LabNames } from './paths.js';

// The lab's login user: unprivileged, NOPASSWD sudo, no root logins anywhere (as on a
// production site). The user lives in the control machine's user database, which the
// hosts share; its home is under each host's own /srv, so each host has its own.

/** Creates the user (password field `*`: sshd without PAM refuses key logins to a locked `!` account) and its sudoers rule. */
export async function ensureLoginUser(names: LabNames): Promise<void> {
  if ((await run('id', ['-u', names.user])).exitCode !== 0) {
    await runOk('useradd', ['-M', '-d', userHome(names), '-s', '/bin/bash', '-U', '-c', `mirrorctl lab ${names.dir}`, names.user]);
  }
  await runOk('usermod', ['-p', '*', names.user]);
  await writeSudoRule(names, 'NOPASSWD: ALL');
}

/** Writes the user's sudoers rule (checked with visudo first, so a bad rule never breaks sudo). */
export async function writeSudoRule(names: LabNames, rule: string): Promise<void> {
  const temporary = `${names.sudoersFile}.tmp`;
  await writeFile(temporary, `# mirrorctl lab ${names.dir}; \`mirrorctl lab down\` removes this file.\n${names.user} ALL=(ALL:ALL) ${rule}\n`, { mode: 0o440 });
  try {
    await runOk('visudo', ['-c', '-q', '-f', temporary]);
    await runOk('mv', ['-f', temporary, names.sudoersFile]);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** The user's home on each host: authorized keys and a minimal shell set-up, owned by the user. */
export async function writeLoginHomes(names: LabNames, authorizedKeys: string): Promise<void> {
  const { uid, gid } = await userIds(names.user);
  const home = userHome(names);
  const rc = `# mirrorctl lab login user: deliberately minimal, so every ssh command starts fast.\nexport PATH=/usr/local/bin:/usr/bin:/bin\n`;
  for (const host of LAB_HOSTS) {
    const files = [
      await writeHostFile(names, host, `${home}/.ssh/authorized_keys`, authorizedKeys, 0o600),
      await writeHostFile(names, host, `${home}/.bashrc`, rc, 0o644),
      await writeHostFile(names, host, `${home}/.profile`, '[ -f ~/.bashrc ] && . ~/.bashrc\n', 0o644),
    ];
    const dirs = [home, `${home}/.ssh`].map((dir) => hostPath(names, host, dir));
    for (const path of [...dirs, ...files]) await chown(path, uid, gid);
    await chmod(dirs[1]!, 0o700);
  }
}

/** Removes the user (its processes are gone with the lab's namespaces) and its sudoers rule. */
export async function removeLoginUser(names: LabNames): Promise<void> {
  await rm(names.sudoersFile, { force: true });
  if ((await run('id', ['-u', names.user])).exitCode === 0) await runOk('userdel', [names.user]);
}
