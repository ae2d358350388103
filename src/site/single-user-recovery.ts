import { StepFailedError } from '../errors.js';
import { lastLine } from '../transports/last-line.js';
import { sh } from '../transports/quote.js';
import type { Transport } from '../transports/types.js';
import { asPostgresUser, pgBin, type ControlData, type DatabaseSettings } from './postgres-server.js';

/**
 * pg_rewind needs a cleanly shut down target, and its --dry-run does not finish a crashed
 * server's recovery (the real run would): do it here, as pg_rewind does, in single-user mode
 * (no network listener, so nothing can write to the old primary meanwhile).
 */
export async function finishCrashRecovery(transport: Transport, database: DatabaseSettings, host: string, control: ControlData, timeoutMs: number): Promise<string> {
  const config = database.config_file ? sh` -c ${`config_file=${database.config_file}`}` : '';
  const signals = sh`rm -f ${`${database.data_dir}/standby.signal`} ${`${database.data_dir}/recovery.signal`}`;
  const single = `${sh`${pgBin(database, 'postgres')} --single -F -D ${database.data_dir}`}${config} template1 < /dev/null 2>&1`;
  const result = await transport.exec(asPostgresUser(database, `${signals} && ${single}`), { timeoutMs });
  if (result.exitCode !== 0) {
    throw new StepFailedError(`crash recovery of ${host} in single-user mode failed: ${lastLine(result.stdout) || `exit ${result.exitCode}`}`, {
      hint: `${host}'s cluster was "${control.state}"; start and stop it cleanly by hand, then run again`,
    });
  }
  return `finished ${host}'s crash recovery in single-user mode (it was "${control.state}")`;
}
