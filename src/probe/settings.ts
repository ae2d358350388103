import { ConfigError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';

/** What the probe asks and how often (spec 10): `probe` of the inventory, its url defaulting to `http.url`. */
export interface ProbeSettings {
  url: string;
  writeUrl: string | null;
  intervalMs: number;
  timeoutMs: number;
}

const DEFAULT_INTERVAL_MS = 20;
const DEFAULT_TIMEOUT_MS = 500;

/** The probe's settings; a usage error (exit 2) when the inventory names no URL to probe. */
export function probeSettings(inventory: Inventory): ProbeSettings {
  const probe = inventory.doc.probe;
  const url = probe?.url ?? inventory.doc.http?.url;
  if (!url) {
    throw new ConfigError(`--probe and --report need a URL to probe, and ${inventory.file} has neither probe.url nor http.url`, {
      hint: 'add probe: { url: http://PORTABLE_IP/health } (or http.url) to the inventory',
    });
  }
  return {
    url,
    writeUrl: probe?.write_url ?? null,
    intervalMs: probe?.interval_ms ?? DEFAULT_INTERVAL_MS,
    timeoutMs: probe?.timeout_ms ?? DEFAULT_TIMEOUT_MS,
  };
}
