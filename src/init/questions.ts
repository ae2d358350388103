// What init asks on a terminal, only for what the flags did not give: first how to
// reach the site, then (after the hosts were asked) what discovery could not settle.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Asker } from './ask.js';
import type { HostFacts } from './discover-host.js';
import { localPath, type Answers } from './options.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const nameCheck = (value: string) => NAME.test(value) || 'letters, digits, . _ - only';
const cidrCheck = (value: string) => /^\d+\.\d+\.\d+\.\d+(\/\d{1,2})?$/.test(value) || 'ADDRESS/PREFIX, like 192.0.2.100/24';
const absoluteCheck = (value: string) => value.split(/\s+/).every((p) => p.startsWith('/')) || 'absolute paths (the same on both hosts)';

/** Site name, the two hosts, the SSH login, the portable IP. */
export async function askConnection(answers: Answers, ask: Asker): Promise<void> {
  answers.site ??= await ask.text('Site name', { required: true, validate: nameCheck });
  while (answers.hosts.length < 2) {
    const which = answers.hosts.length === 0 ? 'first' : 'second';
    const name = await ask.text(`Name of the ${which} host (as mirrorctl will call it)`, {
      default: answers.hosts.length === 0 ? 'web1' : 'web2',
      validate: (v) => (answers.hosts.some((h) => h.name === v) ? 'that name is taken' : nameCheck(v)),
    });
    const address = await ask.text(`Address of ${name} (IP address or DNS name)`, { required: true });
    answers.hosts.push({ name, address });
  }
  if (answers.ssh.user === undefined) {
    const user = await ask.text('SSH login user (not root? it needs NOPASSWD sudo)', { default: 'root' });
    if (user !== 'root') answers.ssh.user = user;
  }
  if (answers.ssh.port === undefined) {
    const port = Number(await ask.text('SSH port', { default: '22', validate: (v) => /^\d+$/.test(v) || 'a port number' }));
    if (port !== 22) answers.ssh.port = port;
  }
  if (answers.ssh.identityFile === undefined) {
    const key = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => path.join(homedir(), '.ssh', k)).find((k) => existsSync(k));
    const file = await ask.text('SSH private key file (empty: the SSH agent)', { default: key });
    if (file) answers.ssh.identityFile = localPath(file);
  }
  if (answers.portableIp === null) {
    const ip = await ask.text('Portable IP, where users reach the site (ADDRESS/PREFIX; empty: fill in later)', { validate: cidrCheck });
    answers.portableIp = ip || null;
  }
}

/** What the hosts did not tell: interfaces, the password variable, sessions, files, the health URL. */
export async function askSite(answers: Answers, facts: HostFacts[], ask: Asker, readSessions: (file: string) => Promise<HostFacts['sessionLines']>): Promise<void> {
  for (const f of facts) {
    if (answers.interfaces.has(f.name) || f.holdsPortableIp || f.routeIface) continue;
    const iface = await ask.text(`${f.name}'s interface for the portable IP (${f.addresses.map((a) => a.iface).join(', ') || 'none found'})`);
    if (iface) answers.interfaces.set(f.name, iface);
  }
  const pg = facts.flatMap((f) => ('facts' in f.postgres ? [f.postgres.facts] : []));
  const noPassword = pg.length > 0 && pg.every((p) => p.tcpAuth.length > 0 && p.tcpAuth.every((m) => !/^(scram-sha-256|md5|password)$/.test(m)));
  if (answers.passwordEnv === undefined && !noPassword) {
    const name = await ask.text('Environment variable that will hold the database password (the NAME, never the password; empty: none)', {
      default: `${(answers.site ?? 'site').toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_DB_PASSWORD`,
      validate: (v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) || 'a variable name',
    });
    answers.passwordEnv = name || null;
  }
  if (answers.memcached.length === 0 && facts.every((f) => f.memcached.length === 0)) {
    const servers = await ask.text('memcached servers, HOST:PORT separated by spaces (none listens on either host; empty: fill in later)');
    answers.memcached = servers.split(/\s+/).filter(Boolean);
  }
  await askSessions(answers, facts, ask, readSessions);
  if (answers.files.length === 0) {
    const files = await ask.text('Directories of uploaded files to copy to the mirror, separated by spaces (empty: fill in later)', { validate: absoluteCheck });
    answers.files = files.split(/\s+/).filter(Boolean);
  }
  if (answers.httpUrl === null) {
    const ip = answers.portableIp?.split('/')[0];
    const url = await ask.text('URL that shows the site is up, through the portable IP', { default: ip ? `http://${ip}/` : undefined });
    answers.httpUrl = url || null;
  }
}

async function askSessions(answers: Answers, facts: HostFacts[], ask: Asker, readSessions: (file: string) => Promise<HostFacts['sessionLines']>): Promise<void> {
  const s = answers.sessions;
  if (!s.file) {
    const candidates = [...new Set(facts.flatMap((f) => f.sessionCandidates))];
    const other = '\u0000other';
    const choice =
      candidates.length > 0
        ? await ask.choose('Which file holds the session storage setting?', [...candidates.map((c) => ({ name: c, value: c })), { name: 'another file…', value: other }, { name: 'fill in later', value: '' }])
        : other;
    s.file = choice === other ? (await ask.text('File holding the session storage setting (absolute path; empty: fill in later)', { validate: absoluteCheck })) || undefined : choice || undefined;
    if (!s.file) return;
    const lines = await readSessions(s.file);
    for (const f of facts) f.sessionLines = lines;
  }
  const lines = facts[0]?.sessionLines ?? [];
  if (!s.key) {
    const keys = [...new Set(lines.map((l) => l.key))];
    s.key =
      keys.length > 1
        ? await ask.choose(`Which setting in ${s.file} says where sessions live?`, keys.map((k) => ({ name: `${k} (now ${lines.find((l) => l.key === k)!.value})`, value: k })))
        : (await ask.text(`The setting's key in ${s.file}`, { default: keys[0] })) || undefined;
  }
  const now = lines.find((l) => l.key === s.key)?.value;
  s.readWrite ??= (await ask.text(`Value of ${s.key} that keeps sessions in the database (read-write)`, { default: now })) || undefined;
  s.readOnly ??= (await ask.text(`Value of ${s.key} for read-only session storage (while the database is read-only)`)) || undefined;
  s.reload ??= (await ask.text('Command that makes the app re-read the file (empty: none needed)')) || undefined;
}
