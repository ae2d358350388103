import { writeFile } from 'node:fs/promises';
import {
  APP_PID_FILE,
  AVATARS_DIR,
  PASSWORD_ENV,
  PG_BIN_DIR,
  PG_DATA_DIR,
  PG_PORT,
  PG_REPLICATION_USER,
  PG_SUPERUSER,
  SESSIONS_FILE,
  SSH_PORT,
  UPLOADS_DIR,
  type LabNames,
} from './paths.js';
import { PG_START_SCRIPT, PG_STOP_SCRIPT } from './postgres-scripts.js';
import type { LabState } from './state.js';

// DIR/mirrorctl.yaml: the inventory (spec section 5) of the lab's site.

/** The inventory text for this lab. */
export function labInventory(names: LabNames, state: LabState): string {
  const web1 = state.nodes.web1.address;
  const web2 = state.nodes.web2.address;
  return `# The mirrorctl lab's site (written by \`mirrorctl lab up --dir ${names.dir}\`).
# Hosts are network namespaces on this machine; \`mirrorctl lab down\` removes everything.
# Built like a production site: no root logins (${names.user} with NOPASSWD sudo), SSH
# and PostgreSQL on non-default ports, a password on every database connection,
# interfaces named differently on the two hosts.
# Before running mirrorctl:  export ${PASSWORD_ENV}="$(cat ${names.passwordFile})"
site: wiki
ssh:
  user: ${names.user}
  port: ${SSH_PORT}
  sudo: true                        # root commands run as \`sudo -n\`
  identity_file: ${names.identityFile}
  known_hosts: ${names.knownHostsFile}
  connect_timeout_ms: 1000          # the hosts are on a local bridge
hosts:
  web1:
    address: ${web1}
    interface: ${state.nodes.web1.iface}
  web2:
    address: ${web2}
    interface: ${state.nodes.web2.iface}
portable_ip:
  address: ${state.portableCidr}
  hosts: [web1, web2]
  arp_count: 3
  arp_probe_ms: 150                 # a bridge answers ARP in well under a millisecond (default 1000)
database:
  engine: postgres
  hosts: [web1, web2]
  port: ${PG_PORT}
  user: ${PG_SUPERUSER}
  password_env: ${PASSWORD_ENV}
  replication_user: ${PG_REPLICATION_USER}
  dbname: wiki
  bin_dir: ${PG_BIN_DIR}
  data_dir: ${PG_DATA_DIR}
  service:                          # scripts in each host's own /srv; start clears a killed server's stale pid files
    start: ${PG_START_SCRIPT}
    stop: ${PG_STOP_SCRIPT}
memcached:
  servers: ["${web1}:11211", "${web2}:11211"]
sessions:
  file: ${SESSIONS_FILE}
  key: session.backend
  read_only: memcache
  read_write: database
  reload: kill -HUP "$(cat ${APP_PID_FILE})"
files:
  paths: [${UPLOADS_DIR}, ${AVATARS_DIR}]
http:
  url: http://${state.portableIp}/health
  expect_status: 200
probe:                              # --probe / --report: what users see during a run
  url: http://${state.portableIp}/health
  interval_ms: 20
  timeout_ms: 500
  write_url: http://${state.portableIp}/probe    # POST: one committed row, 503 on a read-only database
checks:
  - name: libmagic database present
    run: test -r /usr/share/misc/magic.mgc || test -r /usr/share/file/magic.mgc
  - name: PostgreSQL socket directory present
    run: test -d /run/postgresql
`;
}

/** Writes DIR/mirrorctl.yaml. */
export async function writeLabInventory(names: LabNames, state: LabState): Promise<void> {
  await writeFile(names.inventoryFile, labInventory(names, state));
}
