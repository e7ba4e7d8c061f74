// Builds the CLI once before the tests that spawn it, so they never run a stale build.
import { execFileSync } from 'node:child_process';

export default function setup() {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.cli.config.ts'], { stdio: 'inherit' });
}
