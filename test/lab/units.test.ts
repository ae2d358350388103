// The lab's pure parts: prerequisite message, names, the app's settings parser.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { checkPrerequisites } from '../../src/lab/prerequisites.js';
import { labNames } from '../../src/lab/paths.js';
import { parseIni } from '../../src/lab/webapp.js';

describe('lab prerequisites', () => {
  it('names everything missing in one message with one apt-get line (exit 2)', async () => {
    const error = await checkPrerequisites({
      uid: 1000,
      platform: 'linux',
      exists: async (path) => !/memcached|arping|postgresql/.test(path),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const config = error as ConfigError;
    expect(config.exitCode).toBe(2);
    expect(config.message).toContain('root');
    expect(config.sentence).toContain('apt-get install -y postgresql-15 memcached iputils-arping');
  });

  it('passes when everything is there', async () => {
    await expect(checkPrerequisites({ uid: 0, platform: 'linux', exists: async () => true })).resolves.toBeUndefined();
  });
});

describe('lab names', () => {
  it('derives short, distinct interface names from the directory', () => {
    const a = labNames('/tmp/lab-a');
    const b = labNames('/tmp/lab-b');
    expect(a.bridge).not.toBe(b.bridge);
    for (const name of [a.bridge, ...Object.values(a.veth)]) expect(name.length).toBeLessThanOrEqual(15);
    expect(labNames('/tmp/lab-a')).toEqual(a);
  });
});

describe('web app settings', () => {
  it('reads key = value lines, skipping comments, trailing ones too', () => {
    const ini = parseIni('# comment\n; other\nsession.backend = memcache   # read-only\nsite.host=web2\n');
    expect(ini.get('session.backend')).toBe('memcache');
    expect(ini.get('site.host')).toBe('web2');
    expect(ini.size).toBe(2);
  });
});
