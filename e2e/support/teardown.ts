import { rmSync } from 'node:fs';

/** Removes the run's temporary vaults (the web server has stopped by now). */
export default function teardown(): void {
  const root = process.env.CUSTODY_E2E_ROOT;
  if (root && /custody-e2e-/.test(root)) rmSync(root, { recursive: true, force: true });
}
