import { ConfigError } from '../errors.js';
import type { DatabaseSettings } from './postgres-server.js';

/** The database password from the environment variable `password_env` names; undefined without one (never the value in messages). */
export function databasePassword(database: DatabaseSettings | undefined): string | undefined {
  const name = database?.password_env;
  if (!name) return undefined;
  const value = process.env[name];
  if (value === undefined) {
    throw new ConfigError(`environment variable ${name} (database.password_env) is not set`, { hint: `export ${name}=... before running mirrorctl` });
  }
  return value;
}
