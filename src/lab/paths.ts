import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

// Every name and path of one lab, derived from its directory so that two labs in
// different directories never share a namespace, interface or subnet name.

export const LAB_HOSTS = ['web1', 'web2'] as const;
export type LabHostName = (typeof LAB_HOSTS)[number];
export type LabNodeName = LabHostName | 'client';
export const LAB_NODES: readonly LabNodeName[] = ['web1', 'web2', 'client'];

/** Last octet of each node's address on the lab subnet. */
export const NODE_OCTET: Record<LabNodeName, number> = { web1: 11, web2: 12, client: 20 };
export const BRIDGE_OCTET = 1;
export const PORTABLE_OCTET = 100;

/** Each node's own name for its interface on the lab network: the hosts differ, as real ones do. */
export const NODE_IFACE: Record<LabNodeName, string> = { web1: 'ens3', web2: 'enp7s0', client: 'eth0' };
/** Non-default ports, as on a production site. */
export const SSH_PORT = 2222;
export const PG_PORT = 5433;
/** The database superuser mirrorctl connects as, and the replica's own login (REPLICATION only). */
export const PG_SUPERUSER = 'postgres';
export const PG_REPLICATION_USER = 'replicator';
/** The web app's own database login (owner of nothing, granted what the app needs). */
export const PG_APP_USER = 'wiki';
/** The environment variable the lab's inventory names for the database password. */
export const PASSWORD_ENV = 'WIKI_DB_PASSWORD';
/** The app's database password inside each host (root only), as a real app keeps it. */
export const APP_SECRET_FILE = '/etc/wiki/db.secret';

/** The directories a host owns; the same paths on both hosts, different contents. */
export const HOST_OWN_DIRS = ['/root', '/run', '/etc/wiki', '/srv', '/var/lib/postgresql'] as const;
/** Home directories of the lab's login user, under each host's own /srv. */
export const HOMES_DIR = '/srv/home';
/** Those backed by a directory under DIR/hosts/<name>/ (bind mounts); /run is a fresh tmpfs, as after a boot. */
export const HOST_BOUND_DIRS = ['/root', '/etc/wiki', '/srv', '/var/lib/postgresql'] as const;

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
export const PG_DATA_DIR = '/var/lib/postgresql/15/main';
export const PG_LOG_FILE = '/var/lib/postgresql/15/log';
/** Host-specific PostgreSQL settings, outside the data dir so basebackup/pg_rewind never copy them. */
export const PG_HOST_CONF = '/var/lib/postgresql/15/host.conf';
export const SESSIONS_FILE = '/etc/wiki/app.ini';
export const APP_PID_FILE = '/run/wiki-app.pid';
/** Inside each host: the lab's own tooling (sshd config and keys, scripts, logs). */
export const HOST_LAB_DIR = '/srv/lab';
export const UPLOADS_DIR = '/srv/wiki/uploads';
export const AVATARS_DIR = '/srv/wiki/avatars';

export interface LabNames {
  dir: string;
  hash: string;
  stateFile: string;
  inventoryFile: string;
  identityFile: string;
  knownHostsFile: string;
  /** The database password (mode 600): what `export WIKI_DB_PASSWORD=$(cat ...)` reads. */
  passwordFile: string;
  /** The unprivileged login user of this lab's hosts (NOPASSWD sudo), on the control machine's user database. */
  user: string;
  /** /etc/sudoers.d file giving `user` its sudo rule; `lab down` removes it. */
  sudoersFile: string;
  nsDir: string;
  bridge: string;
  /** Root-side veth end of each node (the node's own end is NODE_IFACE[node]). */
  veth: Record<LabNodeName, string>;
  netns: Record<LabNodeName, string>;
  /** Bind-mounted mount-namespace file of each host. */
  mountNs: Record<LabHostName, string>;
  /** Per-host directory under DIR/hosts/<name>/ backing the host's own dirs. */
  hostRoot: Record<LabHostName, string>;
}

/** The absolute lab directory (default ./mirrorctl-lab). */
export function resolveLabDir(dir: string | undefined): string {
  return resolve(dir ?? 'mirrorctl-lab');
}

/** Names and paths of the lab in `dir` (absolute). */
export function labNames(dir: string): LabNames {
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 4);
  const prefix = `mc${hash}`;
  const nsDir = join(dir, 'ns');
  return {
    dir,
    hash,
    stateFile: join(dir, 'lab.json'),
    inventoryFile: join(dir, 'mirrorctl.yaml'),
    identityFile: join(dir, 'id_ed25519'),
    knownHostsFile: join(dir, 'known_hosts'),
    passwordFile: join(dir, 'db-password'),
    user: `${prefix}op`,
    sudoersFile: `/etc/sudoers.d/mirrorctl-lab-${hash}`,
    nsDir,
    bridge: `${prefix}br`,
    veth: { web1: `${prefix}w1`, web2: `${prefix}w2`, client: `${prefix}cl` },
    netns: { web1: `${prefix}-web1`, web2: `${prefix}-web2`, client: `${prefix}-client` },
    mountNs: { web1: join(nsDir, 'web1.mnt'), web2: join(nsDir, 'web2.mnt') },
    hostRoot: { web1: join(dir, 'hosts', 'web1'), web2: join(dir, 'hosts', 'web2') },
  };
}

/** The login user's home inside each host. */
export function userHome(names: LabNames): string {
  return `${HOMES_DIR}/${names.user}`;
}

/** Where a host's own directory (e.g. /srv) lives on the control machine. */
export function hostBacking(names: LabNames, host: LabHostName, ownDir: string): string {
  return join(names.hostRoot[host], ownDir.replace(/^\//, '').replace(/\//g, '_'));
}

/** Path on the control machine of a file inside a host (for paths under one of its own dirs). */
export function hostPath(names: LabNames, host: LabHostName, path: string): string {
  const own = HOST_BOUND_DIRS.find((d) => path === d || path.startsWith(`${d}/`));
  if (!own) throw new Error(`${path} is not under one of the host's directories backed on the control machine`);
  return join(hostBacking(names, host, own), path.slice(own.length));
}

export function netnsPath(netns: string): string {
  return `/run/netns/${netns}`;
}
