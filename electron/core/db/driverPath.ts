// Where the SQLite driver (better-sqlite3) is, for helper threads that open their own connection
// from source text (audit/verifyLog.ts, walCheckpoint.ts): resolved here, so the sources under
// test and every bundle (CLI, Electron) find the same module the vault's connection uses.
import { createRequire } from 'node:module';

let path: string | undefined;

export function sqliteDriverPath(): string {
  return (path ??= createRequire(import.meta.url).resolve('better-sqlite3'));
}
