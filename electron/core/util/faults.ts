// Fault points for crash tests: a test runs the CLI in a child process with CUSTODY_FAULT set
// to a point's name, and the process kills itself there (SIGKILL, as a power cut or kill -9
// would: no cleanup, no finally), so a test can stop it at every step, not only where a timer
// happens to hit. Without the variable this does nothing.
export type FaultPoint =
  // Backup and restore (backup/).
  | 'backup:snapshot'
  | 'backup:writing'
  | 'backup:before-rename'
  | 'restore:extracted'
  | 'restore:logged'
  | 'restore:before-rename'
  // A large commit done, its WAL checkpoint handed to the helper thread (db/database.ts).
  | 'wal-checkpoint:requested'
  // Key rotations and device revocation (keys/).
  | 'device-key:old-checkpoint'
  | 'device-key:mid-transaction'
  | 'device-key:committed'
  | 'epoch-root:mid-transaction'
  | 'record-keys:after-first-day'
  | 'record-keys:attachments-staged'
  | 'record-keys:mid-day'
  | 'record-keys:before-place'
  | 'revoke:server'
  | 'revoke:rotated'
  | 'vault-key:checked'
  | 'vault-key:next-header'
  | 'vault-key:mid-transaction'
  | 'vault-key:committed'
  | 'vault-key:renamed'
  | 'vault-key:published'
  | 'vault-key:follow-opened'
  | 'vault-key:follow-committed';

export function faultPoint(name: FaultPoint): void {
  if (process.env.CUSTODY_FAULT !== name) return;
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered before anything else runs; block until it is.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
