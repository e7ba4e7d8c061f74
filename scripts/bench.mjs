// Builds the benchmark runner with the CLI (same sources) and runs it.
import { execFileSync } from 'node:child_process';

execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'vite.cli.config.ts'], { stdio: 'inherit' });
// The IPC benchmark runs the built web shell (the app's real IPC path).
execFileSync('npx', ['--no-install', 'electron-vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
execFileSync(process.execPath, ['--max-old-space-size=8192', 'out/cli/bench.mjs', ...process.argv.slice(2)], { stdio: 'inherit' });
