// The readers of tool output, on output captured from the lab (iputils arping 20221126,
// iproute2, rsync 3.2, memcached 1.6).
import { describe, expect, it } from 'vitest';
import { repliesOf } from '../../src/site/arp.js';
import { segmentDevice } from '../../src/transports/arp-liveness.js';
import { parseStats } from '../../src/site/memcached.js';
import { hasAddress } from '../../src/site/portable-ip.js';
import { describeCopy, readStats, rsyncScript } from '../../src/site/rsync.js';
import type { HostEntry } from '../../src/inventory/schema.js';

describe('arping replies', () => {
  it('collects every answering MAC, lower case, once', () => {
    const output = [
      'ARPING 10.213.142.100 from 10.213.142.12 eth0',
      'Unicast reply from 10.213.142.100 [B6:60:13:DF:3B:D8]  0.564ms',
      'Unicast reply from 10.213.142.100 [4A:FE:28:97:B1:81]  0.601ms',
      'Unicast reply from 10.213.142.100 [B6:60:13:DF:3B:D8]  0.580ms',
      'Sent 2 probes (2 broadcast(s))',
      'Received 3 response(s)',
    ].join('\n');
    expect(repliesOf(output)).toEqual(['b6:60:13:df:3b:d8', '4a:fe:28:97:b1:81']);
    expect(repliesOf('ARPING 10.213.142.199 from 10.213.142.12 eth0\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n')).toEqual([]);
  });
});

describe('ip -o addr', () => {
  const output = [
    '2: eth0    inet 10.213.142.11/24 scope global eth0\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 10.213.142.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever',
  ].join('\n');
  it('finds the address whatever its prefix, and not a longer one', () => {
    expect(hasAddress(output, '10.213.142.100')).toBe(true);
    expect(hasAddress(output, '10.213.142.10')).toBe(false);
    expect(hasAddress(output, '10.213.142.1')).toBe(false);
  });
});

describe('rsync', () => {
  it('reads files and bytes from --stats and what the receiver lacks from --itemize-changes', () => {
    const output = [
      'receiving incremental file list',
      '>f+++++++++ handbook.html',
      '>f+++++++++ page-07.txt',
      'cd+++++++++ 2008/07/',
      '>f+++++++++ 2008/06/mirror-server.txt',
      '>f.st...... page-01.txt',
      '',
      'Number of files: 24 (reg: 20, dir: 4)',
      'Number of created files: 3 (reg: 3)',
      'Number of regular files transferred: 4',
      'Total file size: 1,178 bytes',
      'Total transferred file size: 12,345 bytes',
    ].join('\n');
    expect(readStats(output)).toEqual({ files: 4, bytes: 12345, missing: 4 });
    expect(describeCopy(3, 178)).toBe('3 files, 178 B');
    expect(describeCopy(1, 12_345)).toBe('1 file, 12 kB');
  });

  it('pulls with --update, never --delete, every argument quoted', () => {
    const sender = { name: 'web1', address: '10.0.0.1', ssh: { user: 'root', port: 2222, sudo: false } } as HostEntry;
    const ssh = 'ssh -p 2222 -l root -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o ServerAliveInterval=3 -o ServerAliveCountMax=3';
    // A dry run's own connection: a master in a directory of its own, told to exit at the end.
    const dry = rsyncScript(sender, ['/srv/my uploads'], true, 'private', '@@n');
    expect(dry).toContain(`rsync -a --update --itemize-changes --stats --dry-run -e '${ssh}'"$m" '10.0.0.1:/srv/my uploads/' '/srv/my uploads/'`);
    expect(dry).toContain('m=" -o ControlMaster=auto -o ControlPath=$d/m"');
    expect(dry).toContain('-O exit');
    expect(dry).not.toContain('--delete');
    // A sender that logs in as a user with sudo runs its end of rsync under sudo too (spec 5).
    // In a real run the rsyncs share one SSH connection to the sender, kept for the run's later steps.
    const copy = rsyncScript({ ...sender, ssh: { ...sender.ssh, user: 'ops', sudo: true } } as HostEntry, ['/srv/up', '/srv/av'], false, 'shared', '@@n');
    expect(copy).toContain("m=; mkdir -p -m 700 /run/mirrorctl-rsync 2>/dev/null && [ -w /run/mirrorctl-rsync ] && m=' -o ControlMaster=auto -o ControlPath=/run/mirrorctl-rsync/%C -o ControlPersist=30'");
    expect(copy).toContain(`rsync -a --update --itemize-changes --stats -e '${ssh.replace('-l root', '-l ops')}'"$m" --rsync-path='sudo -n rsync' 10.0.0.1:/srv/av/ /srv/av/`);
    expect(copy).not.toContain('--dry-run');
    expect(copy).not.toContain('-O exit');
    expect(copy).not.toContain('--delete');
  });
});

describe('memcached stats', () => {
  it('reads STAT lines', () => {
    const stats = parseStats('STAT pid 42\r\nSTAT curr_items 7\r\nEND\r\nSTAT flush_enabled no\r\nEND\r\n');
    expect(stats.get('curr_items')).toBe('7');
    expect(stats.get('flush_enabled')).toBe('no');
  });
});

describe('ip -o route get: the control machine shares the segment only without a gateway', () => {
  it('a connected route names its device; a gateway, a local address or nothing is no segment', () => {
    expect(segmentDevice('10.213.216.11 dev mc057ebr src 10.213.216.1 uid 0 \\    cache ')).toBe('mc057ebr');
    expect(segmentDevice('10.213.55.11 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \\    cache ')).toBeNull();
    expect(segmentDevice('local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \\    cache <local> ')).toBeNull();
    expect(segmentDevice('')).toBeNull();
  });
});
