import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprint, hostKeyAlgorithms, keyType } from '../../src/transports/host-key.js';
import { hostMatches, keysFor, parseKnownHosts, revokedFor } from '../../src/transports/known-hosts.js';
import { keygen, sshKeygenFingerprint } from './sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'mirrorctl-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ed = keygen(dir, 'ed', 'ed25519');
const ec = keygen(dir, 'ec', 'ecdsa');
const rsa = keygen(dir, 'rsa', 'rsa');
const other = keygen(dir, 'other', 'ed25519');
const b64 = (k: { blob: Buffer }) => k.blob.toString('base64');

describe('fingerprint', () => {
  it('prints what ssh-keygen -l -E sha256 prints', () => {
    for (const key of [ed, ec, rsa]) expect(fingerprint(key.blob)).toBe(sshKeygenFingerprint(`${key.path}.pub`));
  });

  it('reads the key type from the blob', () => {
    expect(keyType(ed.blob)).toBe('ssh-ed25519');
    expect(keyType(ec.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyType(rsa.blob)).toBe('ssh-rsa');
    expect(keyType(Buffer.from([0, 0]))).toBe('unknown');
  });

  it('maps recorded key types to the host key algorithms to offer', () => {
    expect(hostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519', 'ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp384', 'ssh-dss', 'sk-ssh-ed25519@openssh.com'])).toEqual(['ecdsa-sha2-nistp384']);
  });
});

describe('known_hosts', () => {
  it('matches plain names on port 22 and [name]:port otherwise', () => {
    const entries = parseKnownHosts(
      [
        '# a comment',
        '',
        `10.0.0.1 ${ed.type} ${b64(ed)} root@web1`,
        `[10.0.0.1]:2222 ${ec.type} ${b64(ec)}`,
        `web2,10.0.0.2 ${rsa.type} ${b64(rsa)}`,
        'garbage line',
        `10.0.0.9 ssh-ed25519 not*base64`,
      ].join('\n'),
    );
    expect(entries).toHaveLength(3);
    expect(keysFor(entries, '10.0.0.1', 22)).toEqual([{ type: 'ssh-ed25519', key: ed.blob }]);
    expect(keysFor(entries, '10.0.0.1', 2222)).toEqual([{ type: 'ecdsa-sha2-nistp256', key: ec.blob }]);
    expect(keysFor(entries, '10.0.0.2', 22)).toEqual([{ type: 'ssh-rsa', key: rsa.blob }]);
    expect(keysFor(entries, 'WEB2', 22)).toHaveLength(1);
    expect(keysFor(entries, '10.0.0.2', 2222)).toEqual([]);
    expect(keysFor(entries, '10.0.0.10', 22)).toEqual([]);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `10.0.0.1 ${ed.publicLine}\n[10.0.0.1]:2222 ${ec.publicLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('10.0.0.1');
    expect(text).toMatch(/^\|1\|/);
    const entries = parseKnownHosts(text);
    expect(keysFor(entries, '10.0.0.1', 22).map((k) => k.type)).toEqual(['ssh-ed25519']);
    expect(keysFor(entries, '10.0.0.1', 2222).map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256']);
    expect(keysFor(entries, '10.0.0.2', 22)).toEqual([]);
  });

  it('understands wildcards and negations', () => {
    expect(hostMatches('10.0.0.*,!10.0.0.5', '10.0.0.4')).toBe(true);
    expect(hostMatches('10.0.0.*,!10.0.0.5', '10.0.0.5')).toBe(false);
    expect(hostMatches('web?', 'web1')).toBe(true);
    expect(hostMatches('web?', 'web12')).toBe(false);
    expect(hostMatches('10.0.0.1', '10a0b0c1')).toBe(false); // dots are literal
    expect(hostMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
  });

  it('never returns @revoked or @cert-authority keys as trusted, but reports revoked ones', () => {
    const entries = parseKnownHosts(
      [
        `@revoked * ${other.type} ${b64(other)}`,
        `@cert-authority *.example.org ${ed.type} ${b64(ed)}`,
        `@unknown-marker 10.0.0.1 ${ed.type} ${b64(ed)}`,
        `10.0.0.1 ${other.type} ${b64(other)}`,
      ].join('\n'),
    );
    expect(keysFor(entries, 'web.example.org', 22)).toEqual([]);
    expect(keysFor(entries, '10.0.0.1', 22)).toEqual([{ type: 'ssh-ed25519', key: other.blob }]);
    expect(revokedFor(entries, '10.0.0.1', 22)).toEqual([other.blob]);
    expect(revokedFor(entries, 'anything', 2200)).toEqual([other.blob]);
  });
});
