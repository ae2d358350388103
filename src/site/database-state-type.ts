/** What one database host says about itself. LSNs are PostgreSQL's text form ("0/3000060"). */
export interface DatabaseState {
  host: string;
  role: 'primary' | 'replica' | 'down';
  timeline: number | null;
  /** Primary: pg_current_wal_lsn(). */
  currentLsn: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  replayPaused: boolean | null;
  /** Replica: pg_stat_wal_receiver.sender_host. */
  upstreamAddress: string | null;
  /** Replica whose WAL receiver is 'streaming'. */
  streaming: boolean;
}
