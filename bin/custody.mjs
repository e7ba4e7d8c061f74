#!/usr/bin/env node
// The `custody` command. The CLI is built from electron/cli by `npm install` (prepare).
import { existsSync } from 'node:fs';

const built = new URL('../out/cli/custody.mjs', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('custody: the CLI is not built yet; run "npm install" (or "npm run prepare") in the project folder\n');
  process.exit(1);
}
await import(built.href);
