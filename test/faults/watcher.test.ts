// The fault suite's watcher of the portable IP must be able to fail: with the address put on
// both hosts by hand, both of its halves (the interfaces of the hosts, the ARP answers heard
// on the segment) report the split.
import { beforeAll, expect, it } from 'vitest';
import { run } from '../../src/lab/exec.js';
import { ensureLab, type TestLab } from '../helpers/lab.js';
import { HOSTS, liveHolders, watchPortableIp } from './harness.js';

let lab: TestLab;

beforeAll(async () => {
  lab = await ensureLab({ anyState: true });
  if ((await liveHolders(lab)).length !== 1) lab = await ensureLab();
});

it('reports the portable IP on two hosts, from their interfaces and from two MACs answering ARP', async () => {
  const [holder] = await liveHolders(lab);
  const other = HOSTS.find((h) => h !== holder)!;
  const watch = watchPortableIp(lab);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await run('ip', ['-n', lab.netns[other], 'addr', 'add', lab.portableCidr, 'dev', lab.iface[other]]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
  } finally {
    await run('ip', ['-n', lab.netns[other], 'addr', 'del', lab.portableCidr, 'dev', lab.iface[other]]);
  }
  const { split, arpQuestions } = await watch.stop();
  expect(arpQuestions).toBeGreaterThanOrEqual(3);
  expect(split.filter((s) => s.includes(`${holder}+${other}`) || s.includes(`${other}+${holder}`)).length).toBeGreaterThan(0);
  expect(split.filter((s) => s.includes(' arp: ')).length).toBeGreaterThan(0);
  expect(await liveHolders(lab)).toEqual([holder]);
});
