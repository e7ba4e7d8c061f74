// Crash points for the rotation tests: a child process running a rotation with
// CUSTODY_KEYS_FAULT=<point> kills itself with SIGKILL there (as kill -9 would), so a test
// can stop it at every step, not only at the moments a timer happens to hit. Unset in normal use.
export function faultPoint(name: string): void {
  if (process.env.CUSTODY_KEYS_FAULT !== name) return;
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered before anything else runs; block until it is.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
