import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { BUNDLED_PLAYBOOKS_DIR, listPlaybooks, locatePlaybook } from '../../src/playbook/locate.js';

const GOOD = path.resolve('test/fixtures/good');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'mirrorctl-locate-'));
  await mkdir(path.join(scratch, 'playbooks'));
  await writeFile(path.join(scratch, 'playbooks', 'zeta.yaml'), 'name: zeta\nsummary: Last one\nsteps: []\n');
  await writeFile(path.join(scratch, 'playbooks', 'broken.yaml'), 'name: [\n');
  await writeFile(path.join(scratch, 'playbooks', 'notes.txt'), 'not a playbook\n');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('locatePlaybook', () => {
  test('a path is returned as given', async () => {
    expect(await locatePlaybook('./mine', GOOD)).toBe('./mine');
    expect(await locatePlaybook('mine.yml', GOOD)).toBe('mine.yml');
    expect(await locatePlaybook('x/y', null)).toBe('x/y');
  });

  test("a name is found in the inventory's playbooks/ (.yaml or .yml)", async () => {
    expect(await locatePlaybook('demo', GOOD)).toBe(path.join(GOOD, 'playbooks', 'demo.yaml'));
    expect(await locatePlaybook('failover', GOOD)).toBe(path.join(GOOD, 'playbooks', 'failover.yml'));
  });

  test('the bundled directory is the package playbooks/', () => {
    expect(BUNDLED_PLAYBOOKS_DIR).toBe(path.resolve('playbooks') + path.sep);
  });

  test('an unknown name lists the available ones', async () => {
    const error = await locatePlaybook('nope', scratch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^unknown playbook "nope": .*available: .*zeta/);
    expect((error as ConfigError).hint).toContain('mirrorctl playbooks');
  });
});

describe('listPlaybooks', () => {
  test("the inventory's playbooks shadow bundled ones, sorted by name", async () => {
    const list = await listPlaybooks(GOOD);
    const names = list.map((p) => p.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(new Set(names).size).toBe(names.length);
    expect(list.find((p) => p.name === 'failover')).toEqual({
      name: 'failover',
      summary: "The inventory's own failover, shadowing the bundled one",
      file: path.join(GOOD, 'playbooks', 'failover.yml'),
    });
    expect(list.find((p) => p.name === 'demo')?.summary).toBe('A small failover-like playbook for the loader tests');
  });

  test('skips non-YAML files and survives an unreadable one', async () => {
    const list = await listPlaybooks(scratch);
    expect(list.some((p) => p.name === 'notes')).toBe(false);
    expect(list.find((p) => p.name === 'zeta')?.summary).toBe('Last one');
    expect(list.find((p) => p.name === 'broken')?.summary).toMatch(/cannot be read/);
  });
});
