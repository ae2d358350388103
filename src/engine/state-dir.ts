import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** --state-dir, else $XDG_STATE_HOME/mirrorctl, else ~/.local/state/mirrorctl. */
export function resolveStateDir(option: string | undefined): string {
  if (option) return resolve(option);
  const xdg = process.env.XDG_STATE_HOME;
  return xdg ? join(xdg, 'mirrorctl') : join(homedir(), '.local', 'state', 'mirrorctl');
}
