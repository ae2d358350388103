// Spawns the compiled CLI as a real process, the way operators and CI run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/mirrorctl', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
  /** Own process group, as a shell gives a foreground job: `process.kill(-pid, …)` signals the whole group like a terminal's Ctrl-C. */
  processGroup?: boolean;
}

/** Runs `mirrorctl ARGS` with no terminal (stdin closed) and returns exit code and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.processGroup ?? false,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** Parses --json stdout: every line must be one JSON event. */
export function events(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, any>);
}

export interface LocalSite {
  dir: string;
  inventory: string;
  stateDir: string;
  appIni: string;
  playbook(name: string, yaml: string): string;
}

/** A one-host site on this machine (`local: true`) in a fresh temp dir. */
export function localSite(extraInventory = ''): LocalSite {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-test-'));
  const appIni = join(dir, 'etc', 'app.ini');
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'playbooks'));
  writeFileSync(appIni, '# the app\n[session]\nsession.backend   =  database   # where sessions live\nother.key = 1\n');
  const inventory = join(dir, 'mirrorctl.yaml');
  writeFileSync(
    inventory,
    `site: t${Math.random().toString(36).slice(2, 8)}\nhosts:\n  local:\n    local: true\nsessions:\n  file: ${appIni}\n  key: session.backend\n  read_only: memcache\n  read_write: database\n${extraInventory}`,
  );
  return {
    dir,
    inventory,
    stateDir: join(dir, 'state'),
    appIni,
    playbook(name: string, yaml: string) {
      const file = join(dir, 'playbooks', `${name}.yaml`);
      writeFileSync(file, yaml);
      return file;
    },
  };
}
