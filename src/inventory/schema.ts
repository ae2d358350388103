import { z } from 'zod';

// The inventory of spec section 5. Keys are the YAML's own (snake_case) so that
// `{{ inventory.database.port }}` in a playbook reads exactly like the file.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_MESSAGE = 'must be the NAME of an environment variable (the secret itself never goes in the file)';
const envName = z.string().regex(ENV_NAME, ENV_NAME_MESSAGE);

/** A dotted quad with every part 0-255. */
function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An address that looks like an IPv4 address must be one; anything else is taken as a DNS name. */
const hostAddress = z
  .string()
  .refine((a) => !/^[\d.]+$/.test(a) || isIpv4(a), 'is not a valid IPv4 address')
  .refine((a) => /^[A-Za-z0-9:][A-Za-z0-9.:-]*$/.test(a), 'must be an IP address or a DNS name');

const sshSettings = z
  .object({
    user: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    identity_file: z.string().min(1),
    passphrase_env: envName,
    known_hosts: z.string().min(1),
    connect_timeout_ms: z.number().int().min(100).max(600_000),
    sudo: z.boolean(),
    /** An OpenSSH client config read for every host (default ~/.ssh/config when it exists). */
    config_file: z.string().min(1),
  })
  .strict();

export const SSH_DEFAULTS = {
  user: 'root',
  port: 22,
  known_hosts: '~/.ssh/known_hosts',
  connect_timeout_ms: 5000,
  sudo: false,
} as const;

const host = z
  .object({
    address: hostAddress.optional(),
    local: z.boolean().optional(),
    ssh: sshSettings.partial().optional(),
    host_key: z.string().regex(/^SHA256:[A-Za-z0-9+/]+=*$/, 'must be a SHA256: fingerprint').optional(),
    /** This host's interface for the portable IP (overrides portable_ip.interface). */
    interface: z.string().min(1).max(15).optional(),
  })
  .strict();

const hostName = z.string().min(1);

/** A path on the hosts (the same on every host): absolute, so rsync never reads it as an option or relative to a home. */
const absolutePath = z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path (starting with /), the same on every host');


export const inventorySchema = z
  .object({
    site: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a simple name (letters, digits, . _ -)'),
    ssh: sshSettings.partial().optional(),
    hosts: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'host names are letters, digits, . _ -'), host),
    portable_ip: z
      .object({
        address: z.string().refine((a) => {
          const [ip, prefix, ...rest] = a.split('/');
          return rest.length === 0 && isIpv4(ip ?? '') && /^\d{1,2}$/.test(prefix ?? '') && Number(prefix) <= 32;
        }, 'must be an IPv4 address with prefix, like 192.0.2.100/24'),
        interface: z.string().min(1).max(15).optional(),
        hosts: z.array(hostName).min(1).optional(),
        arp_count: z.number().int().min(0).max(100).default(3),
        arp_probe_ms: z.number().int().min(100).max(60_000).default(1000),
      })
      .strict()
      .optional(),
    database: z
      .object({
        engine: z.literal('postgres').default('postgres'),
        hosts: z.array(hostName).length(2, 'must name exactly the two hosts of the pair'),
        port: z.number().int().min(1).max(65535).default(5432),
        user: z.string().min(1).default('postgres'),
        password_env: envName.optional(),
        replication_user: z.string().min(1).optional(),
        dbname: z.string().min(1).default('postgres'),
        max_lag_bytes: z.number().int().min(0).default(16_777_216),
        bin_dir: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
        data_dir: z.string().min(1).default('/var/lib/postgresql/15/main'),
        config_file: z.string().min(1).optional(),
        service: z
          .object({ stop: z.string().min(1), start: z.string().min(1) })
          .strict()
          .default({ stop: 'systemctl stop postgresql', start: 'systemctl start postgresql' }),
      })
      .strict()
      .optional(),
    memcached: z
      .object({ servers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1) })
      .strict()
      .optional(),
    sessions: z
      .object({
        file: z.string().min(1),
        key: z.string().min(1),
        read_only: z.string(),
        read_write: z.string(),
        reload: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    files: z.object({ paths: z.array(absolutePath).min(1) }).strict().optional(),
    http: z
      .object({
        url: z.string().url(),
        expect_status: z.number().int().min(100).max(599).default(200),
      })
      .strict()
      .optional(),
    probe: z
      .object({
        url: z.string().url().optional(),
        interval_ms: z.number().int().min(5).max(60_000).default(20),
        timeout_ms: z.number().int().min(10).max(60_000).default(500),
        write_url: z.string().url().optional(),
      })
      .strict()
      .optional(),
    checks: z
      .array(
        z
          .object({ name: z.string().min(1), run: z.string().min(1), hosts: z.array(hostName).min(1).optional() })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type InventoryDocument = z.infer<typeof inventorySchema>;
export type SshSettings = z.infer<typeof sshSettings>;

/**
 * One host with its SSH settings merged (defaults ← OpenSSH config ← inventory ssh ←
 * host ssh) and `~` expanded. A jump host is described the same way.
 */
export interface HostEntry {
  name: string;
  /** Where to connect: the inventory's address, or the HostName the OpenSSH config gives for it. */
  address: string | null;
  /** The inventory's `address` when the OpenSSH config resolved it to another HostName, else null. */
  alias: string | null;
  local: boolean;
  hostKey: string | null;
  ssh: {
    user: string;
    port: number;
    identityFile: string | null;
    passphraseEnv: string | null;
    knownHosts: string;
    connectTimeoutMs: number;
    sudo: boolean;
    /** The OpenSSH client config read for this host, or null (none given, no ~/.ssh/config). */
    configFile: string | null;
    /** True when identityFile came from the OpenSSH config (an agent, if running, is offered too). */
    identityFromConfig: boolean;
    /** Jump hosts (OpenSSH ProxyJump), first hop first; empty when the host is reached directly. */
    jumpHosts: HostEntry[];
  };
}

/** A loaded, validated inventory. `doc` is the document with defaults applied. */
export interface Inventory {
  file: string;
  dir: string;
  doc: InventoryDocument;
  site: string;
  hosts: Map<string, HostEntry>;
  /** Line of a key path in the file (for messages), when known. */
  lineOf(path: Array<string | number>): number | null;
}

export type InventorySection = 'portable_ip' | 'database' | 'memcached' | 'sessions' | 'files' | 'http';
