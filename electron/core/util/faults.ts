// Fault points for crash tests: a test runs the CLI in a child process with CUSTODY_FAULT set
// to a point's name, and the process kills itself there (SIGKILL, as a power cut or kill -9
// would: no cleanup, no finally). Without the variable this does nothing.
export type FaultPoint =
  | 'backup:snapshot'
  | 'backup:writing'
  | 'backup:before-rename'
  | 'restore:extracted'
  | 'restore:logged'
  | 'restore:before-rename'
  // A large commit done, its WAL checkpoint handed to the helper thread (db/database.ts).
  | 'wal-checkpoint:requested';

export function faultPoint(name: FaultPoint): void {
  if (process.env.CUSTODY_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
