import { chmod, chown, mkdir, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { nodeExecOk, run, runOk } from './exec.js';
import { mountPoints, mountsUnder } from './mounts.js';
import { HOST_BOUND_DIRS, hostBacking, type LabHostName, type LabNames } from './paths.js';

// Each host's own persistent mount namespace, bind-mounted on DIR/ns/<host>.mnt so it
// outlives every process in it (a "cut" host keeps its disks). Inside it /root,
// /etc/wiki, /srv and /var/lib/postgresql are bind mounts of DIR/hosts/<host>/...,
// and /run is a tmpfs. Propagation is private: nothing mounted there reaches the root.

const ETC_WIKI = '/etc/wiki';
const ETC_WIKI_MARKER = '/etc/wiki/.mirrorctl-lab-mountpoint';

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** Gives /etc/wiki a mount point on the control machine when it has none; true when created. */
export async function ensureEtcWikiMountPoint(): Promise<boolean> {
  if (await isDirectory(ETC_WIKI)) return false;
  await mkdir(ETC_WIKI, { mode: 0o755 });
  await writeFile(ETC_WIKI_MARKER, 'Empty mount point for the /etc/wiki of mirrorctl lab hosts; `mirrorctl lab down` removes it.\n');
  return true;
}

/** Removes the /etc/wiki mount point a lab created, once no other lab is up. */
export async function removeEtcWikiMountPoint(names: LabNames): Promise<void> {
  const entries = await readdir(ETC_WIKI).catch(() => null);
  if (!entries || entries.length !== 1 || entries[0] !== '.mirrorctl-lab-mountpoint') return;
  const list = await run('ip', ['netns', 'list']);
  const otherLab = list.stdout
    .split('\n')
    .map((line) => line.split(/\s+/)[0] ?? '')
    .some((ns) => /^mc[0-9a-f]{4}-web[12]$/.test(ns) && ns !== names.netns.web1 && ns !== names.netns.web2);
  if (otherLab) return;
  await rm(ETC_WIKI_MARKER, { force: true });
  await rmdir(ETC_WIKI).catch(() => undefined);
}

/** Creates DIR/hosts/<host>/... with the owners the services expect. */
async function ensureBackingDirs(names: LabNames, host: LabHostName): Promise<void> {
  for (const own of HOST_BOUND_DIRS) {
    const backing = hostBacking(names, host, own);
    await mkdir(backing, { recursive: true });
    if (own === '/root') await chmod(backing, 0o700);
    else await chmod(backing, 0o755);
  }
  const pgHome = hostBacking(names, host, '/var/lib/postgresql');
  const postgres = await userIds('postgres');
  await mkdir(`${pgHome}/15`, { recursive: true });
  await chown(pgHome, postgres.uid, postgres.gid);
  await chown(`${pgHome}/15`, postgres.uid, postgres.gid);
}

/** Numeric uid and gid of a local user. */
export async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const result = await runOk('id', ['-u', user]);
  const group = await runOk('id', ['-g', user]);
  return { uid: Number(result.stdout.trim()), gid: Number(group.stdout.trim()) };
}

/** DIR/ns as a private bind mount of itself: namespace files may only be bound on a non-shared mount. Call once, before the hosts' namespaces. */
export async function ensurePrivateNsDir(names: LabNames): Promise<void> {
  await mkdir(names.nsDir, { recursive: true });
  if (!(await mountPoints()).includes(names.nsDir)) {
    await runOk('mount', ['--bind', names.nsDir, names.nsDir]);
  }
  await runOk('mount', ['--make-private', names.nsDir]);
}

/** True when the host's mount namespace file is bound (the namespace exists). */
export async function mountNamespaceExists(names: LabNames, host: LabHostName): Promise<boolean> {
  return (await mountPoints()).includes(names.mountNs[host]);
}

/** Creates the host's mount namespace unless it exists. */
export async function ensureMountNamespace(names: LabNames, host: LabHostName): Promise<boolean> {
  await ensureBackingDirs(names, host);
  if (await mountNamespaceExists(names, host)) return false;
  await writeFile(names.mountNs[host], '');
  const binds = HOST_BOUND_DIRS.map((own) => `mount --bind '${hostBacking(names, host, own)}' ${own}`);
  const script = [
    'set -e',
    // Copies of the root's namespace files: dropped so this namespace pins no other one.
    `umount -l '${names.nsDir}' 2>/dev/null || true`,
    'umount -l /run/netns 2>/dev/null || true',
    ...binds,
    `mount -t tmpfs -o mode=0755,size=64m lab-${host}-run /run`,
  ].join('\n');
  await runOk('unshare', [`--mount=${names.mountNs[host]}`, '--propagation', 'private', '--', '/bin/sh', '-c', script]);
  return true;
}

/** What a boot does to /run: empty it, then create the daemons' runtime directories. */
export async function resetRun(names: LabNames, host: LabHostName): Promise<void> {
  await nodeExecOk(names, host, [
    'set -e',
    'find /run -mindepth 1 -delete',
    'install -d -m 0755 /run/sshd',
    'install -d -m 2775 -o postgres -g postgres /run/postgresql',
    'install -d -m 0755 -o memcache -g memcache /run/memcached',
  ].join('\n'));
}

/** Unbinds the hosts' namespace files and DIR/ns; the namespaces go with their last process. */
export async function removeMountNamespaces(names: LabNames): Promise<void> {
  for (const point of (await mountsUnder(names.dir)).reverse()) {
    await run('umount', ['-l', point]);
  }
}
