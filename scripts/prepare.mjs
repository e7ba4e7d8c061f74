// Runs after `npm install`: generates the Prisma clients and builds the CLI (bin/custody.mjs).
// Prisma's CLI wants a schema-engine binary even for `generate`, which only needs its wasm;
// pointing it at any executable keeps it from downloading one (see docs/architecture.md, "Where it runs").
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildCli } from './build-cli.mjs';

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', env });

for (const schema of ['prisma/schema.prisma', 'prisma/server/schema.prisma']) {
  if (existsSync(schema)) run('npx', ['--no-install', 'prisma', 'generate', '--schema', schema]);
}
// Always rebuilt here (the Prisma clients just changed); into its own folder, switched atomically.
buildCli({ force: true, env });
