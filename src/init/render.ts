// The draft as a commented mirrorctl.yaml: each found value with a note on where it
// came from; each placeholder a commented-out key (so `validate` names it) saying what to give.
import { stringify } from 'yaml';
import type { Draft, Slot } from './draft.js';

/** One YAML scalar or flow sequence, quoted only when YAML needs it. */
function scalar(value: string | number | boolean | string[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => scalar(v)).join(', ')}]`;
  return stringify(value, { lineWidth: 0, defaultStringType: 'PLAIN' }).trimEnd();
}

class Lines {
  readonly out: string[] = [];
  add(text: string): void {
    this.out.push(text);
  }
  /** `key: value  # note`, or a commented-out key saying what is missing. */
  slot<T extends string | number | boolean | string[]>(indent: number, key: string, slot: Slot<T>): void {
    const pad = ' '.repeat(indent);
    if ('missing' in slot) {
      this.out.push(`${pad}# TODO ${key}: ${slot.missing}; e.g. ${slot.example}`);
      return;
    }
    this.value(indent, key, slot.value, slot.note);
  }
  /** `name:` opening a section, with a note. */
  section(name: string, note?: string): void {
    this.out.push(note ? `${`${name}:`.padEnd(40)}  # ${note}` : `${name}:`);
  }
  value(indent: number, key: string, value: string | number | boolean | string[], note?: string): void {
    const line = `${' '.repeat(indent)}${key}: ${scalar(value)}`;
    this.out.push(note ? `${line.padEnd(40)}  # ${note}` : line);
  }
}

/** The inventory text. `about` names where it was found (hosts, date) for the header. */
export function renderInventory(draft: Draft, about: { written: string }): string {
  const l = new Lines();
  l.add(`# mirrorctl inventory, written by \`mirrorctl init\` on ${about.written}`);
  l.add(`# from what the hosts said over SSH (notes after #). Lines starting "# TODO" are what`);
  l.add(`# init could not find and was not given: fill them in and uncomment them.`);
  l.add(`# Then: mirrorctl validate && mirrorctl switchover --dry-run`);
  l.slot(0, 'site', draft.site);

  l.add('ssh:');
  if (draft.ssh.user) l.value(2, 'user', draft.ssh.user);
  if (draft.ssh.port) l.value(2, 'port', draft.ssh.port);
  if (draft.ssh.identity_file) l.value(2, 'identity_file', draft.ssh.identity_file);
  if (draft.ssh.known_hosts) l.value(2, 'known_hosts', draft.ssh.known_hosts, 'init recorded accepted host keys here');
  l.slot(2, 'sudo', draft.ssh.sudo);

  l.add('hosts:');
  for (const host of draft.hosts) {
    l.add(`  ${host.name}:`);
    l.value(4, 'address', host.address);
    l.slot(4, 'interface', host.interface);
  }

  l.add('portable_ip:');
  l.slot(2, 'address', draft.portableIp);
  l.value(2, 'hosts', draft.database.hosts);

  const db = draft.database;
  l.add('database:');
  l.value(2, 'engine', 'postgres');
  l.value(2, 'hosts', db.hosts, draft.primary ? `${draft.primary} is the primary now` : undefined);
  l.slot(2, 'port', db.port);
  l.value(2, 'user', 'postgres', 'a superuser (pg_rewind connects as it)');
  if ('none' in db.passwordEnv) l.add(`  # password_env: not set: ${db.passwordEnv.none}`);
  else if ('value' in db.passwordEnv) l.value(2, 'password_env', db.passwordEnv.value, 'the NAME of the variable; export it before running mirrorctl');
  else l.slot(2, 'password_env', db.passwordEnv);
  if (db.replicationUser) l.slot(2, 'replication_user', db.replicationUser);
  l.value(2, 'dbname', 'postgres');
  l.slot(2, 'bin_dir', db.binDir);
  l.slot(2, 'data_dir', db.dataDir);
  if (db.configFile) l.value(2, 'config_file', db.configFile);
  l.section('  service', 'value' in db.stop ? db.stop.note : undefined);
  l.slot(4, 'stop', 'value' in db.stop ? { value: db.stop.value } : db.stop);
  l.slot(4, 'start', 'value' in db.start ? { value: db.start.value } : db.start);

  l.section('memcached', 'value' in draft.memcached ? draft.memcached.note : undefined);
  l.slot(2, 'servers', 'value' in draft.memcached ? { value: draft.memcached.value } : draft.memcached);

  const s = draft.sessions;
  l.add('sessions:');
  l.slot(2, 'file', s.file);
  l.slot(2, 'key', s.key);
  l.slot(2, 'read_only', s.readOnly);
  l.slot(2, 'read_write', s.readWrite);
  if (s.reload) l.value(2, 'reload', s.reload);
  else l.add('  # reload: a command that makes the app re-read the file (optional), e.g. systemctl reload php-fpm');

  l.add('files:');
  l.slot(2, 'paths', draft.files);
  l.add('http:');
  l.slot(2, 'url', draft.http);
  l.value(2, 'expect_status', 200);
  return `${l.out.join('\n')}\n`;
}
