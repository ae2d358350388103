import { labNames } from './paths.js';
import { waitStreaming } from './postgres.js';
import { readLabState } from './state.js';
import { labStatusAt } from './status.js';

// The lab as `lab up` first builds it: web1 primary holding the portable IP, web2 a
// streaming replica, sessions in the database on both, every service answering.
// Tests that need that starting point rebuild the lab when something else is found.

/** What differs from the freshly built lab (empty when it is exactly that). */
export async function labDeviations(dir: string): Promise<string[]> {
  const status = await labStatusAt(dir);
  if (!status.up) return ['the lab is not up'];
  const deviations: string[] = [];
  const expected = { web1: { role: 'primary', ip: true }, web2: { role: 'replica', ip: false } } as const;
  for (const host of status.hosts) {
    const want = expected[host.name];
    if (host.link !== 'up') deviations.push(`${host.name}: link ${host.link}`);
    if (host.postgres !== want.role) deviations.push(`${host.name}: database ${host.postgres}, expected ${want.role}`);
    if (host.holds_portable_ip !== want.ip) deviations.push(`${host.name}: ${host.holds_portable_ip ? 'holds' : 'lacks'} the portable IP`);
    if (!host.sshd) deviations.push(`${host.name}: sshd not running`);
    if (!host.memcached) deviations.push(`${host.name}: memcached not answering`);
    if (host.webapp.health !== 'ok') deviations.push(`${host.name}: web app not answering`);
    else if (host.webapp.session_mode !== 'database') deviations.push(`${host.name}: sessions ${host.webapp.session_mode}`);
  }
  if (deviations.length === 0) {
    const names = labNames(dir);
    const state = (await readLabState(names))!;
    if (!(await waitStreaming(names, state, 'web1', 'web2', 5000))) deviations.push('web2 is not streaming from web1');
  }
  return deviations;
}
