import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { hostOfServer, requireSections } from '../../src/inventory/sections.js';

describe('requireSections', () => {
  test('passes when the sections are there', async () => {
    const inventory = await loadInventory('test/fixtures/good/mirrorctl.yaml');
    expect(() => requireSections(inventory, ['memcached', 'database', 'http'], 'status')).not.toThrow();
  });

  test('names the missing section and who needs it', async () => {
    const inventory = await loadInventory('test/fixtures/good/minimal.yaml');
    const error = (() => {
      try {
        requireSections(inventory, ['memcached'], 'step flush-cache (memcached.flush)');
      } catch (e) {
        return e as ConfigError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe('test/fixtures/good/minimal.yaml: section "memcached" is missing; step flush-cache (memcached.flush) needs it');
    expect(error?.hint).toContain('add a memcached section');
    expect(error?.hint).toContain('README');
  });
});

describe('hostOfServer', () => {
  test('finds the host by address or by name', async () => {
    const inventory = await loadInventory('test/fixtures/good/mirrorctl.yaml');
    expect(hostOfServer(inventory, '192.0.2.11:11211')).toBe('web2');
    expect(hostOfServer(inventory, '192.0.2.10:11211')).toBe('web1');
    expect(hostOfServer(inventory, 'web1:11211')).toBe('web1');
    expect(hostOfServer(inventory, '192.0.2.99:11211')).toBeNull();
  });
});
