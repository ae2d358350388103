import { describe, expect, it } from 'vitest';
import { pgCtl } from '../../src/init/draft.js';
import { conninfoUser, parseIpAddr, parseListening, parseLsClusters, parseRouteGet, serviceUnitOf, sessionSettings, tcpAuthMethods } from '../../src/init/parse.js';

describe('what the hosts print, read into facts', () => {
  it('ip -o -4 addr show: every address with its interface and prefix (VLAN @parent names too)', () => {
    const text = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '2: ens3    inet 10.1.2.11/24 brd 10.1.2.255 scope global ens3\\       valid_lft forever',
      '2: ens3    inet 10.1.2.100/24 scope global secondary ens3\\       valid_lft forever',
      '5: bond0.12@bond0    inet 192.0.2.5/28 scope global bond0.12',
    ].join('\n');
    expect(parseIpAddr(text)).toEqual([
      { iface: 'lo', cidr: '127.0.0.1/8', address: '127.0.0.1', prefix: 8 },
      { iface: 'ens3', cidr: '10.1.2.11/24', address: '10.1.2.11', prefix: 24 },
      { iface: 'ens3', cidr: '10.1.2.100/24', address: '10.1.2.100', prefix: 24 },
      { iface: 'bond0.12', cidr: '192.0.2.5/28', address: '192.0.2.5', prefix: 28 },
    ]);
  });

  it('ip -o route get: the interface, or none for an address the host holds', () => {
    expect(parseRouteGet('10.1.2.100 dev enp7s0 src 10.1.2.12 uid 0 \\    cache ')).toEqual({ iface: 'enp7s0', local: false, via: null });
    expect(parseRouteGet('local 10.1.2.100 dev lo src 10.1.2.11 uid 0 \\    cache <local> ')).toEqual({ iface: null, local: true, via: null });
    expect(parseRouteGet('192.0.2.100 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0')).toEqual({ iface: 'eth0', local: false, via: '10.0.0.1' });
  });

  it('ss -Hltnp: address, port and the processes holding each listening socket', () => {
    const text = [
      'LISTEN 0      144        127.0.0.1:5433  0.0.0.0:* users:(("postgres",pid=24765,fd=6))  ',
      'LISTEN 0      1024   10.1.2.11:11211 0.0.0.0:* users:(("memcached",pid=24490,fd=22))',
      'LISTEN 0      4096            [::]:22         [::]:*    users:(("sshd",pid=1,fd=4),("systemd",pid=2,fd=9))',
      'LISTEN 0      128    [fe80::1]%eth0:80  [::]:*',
    ].join('\n');
    expect(parseListening(text)).toEqual([
      { address: '127.0.0.1', port: 5433, processes: [{ name: 'postgres', pid: 24765 }] },
      { address: '10.1.2.11', port: 11211, processes: [{ name: 'memcached', pid: 24490 }] },
      { address: '[::]', port: 22, processes: [{ name: 'sshd', pid: 1 }, { name: 'systemd', pid: 2 }] },
      { address: '[fe80::1]', port: 80, processes: [] },
    ]);
  });

  it('the systemd unit of a process from /proc/PID/cgroup (v2 and v1); none for a session or the root cgroup', () => {
    expect(serviceUnitOf('0::/system.slice/system-postgresql.slice/postgresql@15-main.service\n')).toBe('postgresql@15-main.service');
    expect(serviceUnitOf('12:pids:/system.slice/postgresql-16.service\n1:name=systemd:/system.slice/postgresql-16.service\n0::/\n')).toBe('postgresql-16.service');
    expect(serviceUnitOf('0::/user.slice/user-0.slice/session-3.scope\n')).toBeNull();
    expect(serviceUnitOf('9:name=systemd:/\n0::/\n')).toBeNull();
  });

  it('pg_lsclusters -h', () => {
    expect(parseLsClusters('15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log\n16 other 5433 down postgres /srv/pg16 /var/log/x.log\n')).toEqual([
      { version: '15', name: 'main', port: 5432, online: true, owner: 'postgres', dataDir: '/var/lib/postgresql/15/main' },
      { version: '16', name: 'other', port: 5433, online: false, owner: 'postgres', dataDir: '/srv/pg16' },
    ]);
  });

  it("the replica's replication login from primary_conninfo, never its password", () => {
    expect(conninfoUser("primary_conninfo = 'user=replicator password=s3cret host=10.0.0.1 port=5433'")).toBe('replicator');
    expect(conninfoUser("primary_conninfo = 'host=10.0.0.1 user=''rep user'' password=x'")).toBe('rep user');
    expect(conninfoUser("primary_conninfo = 'postgresql://repl:pw@10.0.0.1:5432/postgres'")).toBe('repl');
    expect(conninfoUser("primary_conninfo = 'host=10.0.0.1 password=x'")).toBeNull();
    expect(conninfoUser('')).toBeNull();
  });

  it('session settings of an ini file: comments skipped, values unquoted, trailing comments dropped', () => {
    const ini = '# session.backend = files\n[session]\nsession.backend   =  database   # where sessions live\n; session.x = 1\nsession_ttl = "3600"\nother = 1\n';
    expect(sessionSettings(ini)).toEqual([
      { key: 'session.backend', value: 'database' },
      { key: 'session_ttl', value: '3600' },
    ]);
  });

  it("pg_hba.conf: the methods TCP connections meet (address and mask forms)", () => {
    const hba = 'local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\nhostssl all all 10.0.0.0 255.0.0.0 md5\n# host all all 0.0.0.0/0 trust\nhost replication rep 10.0.0.0/8 scram-sha-256\n';
    expect(tcpAuthMethods(hba)).toEqual(['scram-sha-256', 'md5']);
  });
});

describe('pg_ctl service commands (no service manager unit runs the server)', () => {
  it('run as the data directory owner from /, waiting; start logs where the server logged and keeps a config file outside the data dir', () => {
    expect(pgCtl('stop', '/usr/lib/postgresql/15/bin', '/var/lib/postgresql/15/main', 'postgres', null, null)).toBe(
      'cd / && su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -m fast -w -t 90 stop"',
    );
    expect(pgCtl('start', '/usr/pgsql-16/bin/', '/srv/pg data', 'pg', '/etc/pg/postgresql.conf', '/var/log/pg.log')).toBe(
      `cd / && su pg -s /bin/sh -c "/usr/pgsql-16/bin/pg_ctl -D '/srv/pg data' -l /var/log/pg.log -o '-c config_file=/etc/pg/postgresql.conf' -w -t 90 start"`,
    );
    // A $ in a path: single quotes all the way, so the shell expands nothing.
    expect(pgCtl('stop', '/opt/pg/bin', '/srv/$pg', 'postgres', null, null)).toBe(
      `cd / && su postgres -s /bin/sh -c '/opt/pg/bin/pg_ctl -D '\\''/srv/$pg'\\'' -m fast -w -t 90 stop'`,
    );
  });
});
