import type { InventoryDocument } from './schema.js';
import type { Problem } from './problems.js';

// Checks the schema cannot express: every host reachable somehow, every host
// named elsewhere defined under `hosts`.

// Problems with host definitions and host references, in any order.
export function crossCheckInventory(doc: InventoryDocument): Problem[] {
  const problems: Problem[] = [];
  const names = Object.keys(doc.hosts);
  if (names.length === 0) {
    problems.push({ path: ['hosts'], problem: 'must define at least one host', hint: 'add the two hosts of the pair under hosts:' });
  }
  for (const [name, host] of Object.entries(doc.hosts)) {
    if (!host.address && host.local !== true) {
      problems.push({
        path: ['hosts', name, 'address'],
        problem: 'required',
        hint: `give ${name} an address, or local: true when it is the control machine itself`,
      });
    }
  }
  const checkNames = (path: Array<string | number>, list: readonly string[] | undefined) => {
    const seen = new Set<string>();
    list?.forEach((name, i) => {
      if (!Object.hasOwn(doc.hosts, name)) {
        problems.push({
          path: [...path, i],
          problem: `host "${name}" is not defined under hosts`,
          hint: names.length > 0 ? `defined hosts: ${names.join(', ')}` : 'define it under hosts:',
        });
      } else if (seen.has(name)) {
        problems.push({ path: [...path, i], problem: `host "${name}" is named twice` });
      }
      seen.add(name);
    });
  };
  checkNames(['database', 'hosts'], doc.database?.hosts);
  checkNames(['portable_ip', 'hosts'], doc.portable_ip?.hosts);
  if (doc.portable_ip && !doc.portable_ip.interface) {
    const ipHosts = doc.portable_ip.hosts ?? doc.database?.hosts ?? names;
    const without = ipHosts.filter((name) => Object.hasOwn(doc.hosts, name) && !doc.hosts[name]!.interface);
    if (without.length > 0) {
      problems.push({
        path: ['portable_ip', 'interface'],
        problem: `required unless every host of portable_ip.hosts names its own (${without.join(', ')} does not)`,
        hint: `add portable_ip.interface, or hosts.${without[0]}.interface`,
      });
    }
  }
  doc.checks?.forEach((check, i) => checkNames(['checks', i, 'hosts'], check.hosts));
  return problems;
}

// The document with the defaults that depend on other keys filled in.
export function applyInventoryDefaults(doc: InventoryDocument): InventoryDocument {
  const pairOrAll = doc.database?.hosts ?? Object.keys(doc.hosts);
  return {
    ...doc,
    ...(doc.portable_ip && { portable_ip: { ...doc.portable_ip, hosts: doc.portable_ip.hosts ?? [...pairOrAll] } }),
    ...(doc.database && { database: { ...doc.database, replication_user: doc.database.replication_user ?? doc.database.user } }),
    ...(doc.checks && { checks: doc.checks.map((check) => ({ ...check, hosts: check.hosts ?? [...pairOrAll] })) }),
  };
}
