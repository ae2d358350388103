/** Keys of a step's `with` whose value names a host (ip.move, files.sync, postgres.rejoin). */
export const HOST_KEYS: readonly string[] = ['from', 'to', 'primary'];
