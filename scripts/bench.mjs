// Builds the benchmark runner with the CLI (same sources) and runs it.
import { execFileSync } from 'node:child_process';
import { buildCli } from './build-cli.mjs';

// Into its own folder, switched in atomically, unless the current build is newer than every source
// (build-cli.mjs): a test run using out/cli meanwhile keeps its build.
buildCli();
// The IPC benchmark runs the built web shell (the app's real IPC path).
execFileSync('npx', ['--no-install', 'electron-vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
execFileSync(process.execPath, ['--max-old-space-size=8192', 'out/cli/bench.mjs', ...process.argv.slice(2)], { stdio: 'inherit' });
