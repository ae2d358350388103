import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostPath, type LabHostName, type LabNames } from './paths.js';

// Writing files into a host's own directories from the control machine.

/** Writes `content` at `path` as seen inside `host` (a path under /root, /etc/wiki, /srv or /var/lib/postgresql). */
export async function writeHostFile(names: LabNames, host: LabHostName, path: string, content: string, mode = 0o644): Promise<string> {
  const target = hostPath(names, host, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content, { mode });
  await chmod(target, mode);
  return target;
}

/** The host's minimal root shell set-up: ssh commands start fast (no pyenv, no cargo). */
export async function writeRootProfile(names: LabNames, host: LabHostName): Promise<void> {
  const rc = `# ${host} (mirrorctl lab): deliberately minimal, so every ssh command starts fast.\nexport PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nPS1='root@${host}:\\w# '\n`;
  await writeHostFile(names, host, '/root/.bashrc', rc);
  await writeHostFile(names, host, '/root/.profile', '[ -n "$BASH_VERSION" ] && [ -f ~/.bashrc ] && . ~/.bashrc\n');
}
