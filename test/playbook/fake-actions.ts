import type { ActionInfo } from '../../src/playbook/action-info.js';

// A hand-made action registry for loader tests (the real one lives in src/actions/).
export const ACTIONS: ReadonlyMap<string, ActionInfo> = new Map<string, ActionInfo>([
  ['service.run', { outputs: ['stdout'], needsHost: true, paramKeys: ['run', 'check', 'unless'], needs: [] }],
  ['postgres.stop', { outputs: ['lsn'], needsHost: true, paramKeys: [], needs: ['database'] }],
  ['postgres.wait-replay', { outputs: [], needsHost: true, paramKeys: ['lsn'], needs: ['database'] }],
  ['postgres.promote', { outputs: ['lsn'], needsHost: true, paramKeys: ['max_lag_bytes'], needs: ['database'] }],
  ['ip.release', { outputs: [], needsHost: true, paramKeys: [], needs: ['portable_ip'] }],
  ['ip.move', { outputs: [], needsHost: false, paramKeys: ['from', 'to'], needs: ['portable_ip'] }],
  ['memcached.flush', { outputs: ['flushed'], needsHost: false, paramKeys: ['servers'], needs: ['memcached'] }],
]);
