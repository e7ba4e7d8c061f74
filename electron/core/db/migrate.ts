// Ordered SQL migrations, applied by the app at open (as a packaged app must: there is no
// Prisma CLI on a user's machine). Each runs in its own transaction and is recorded with
// its checksum; a database migrated by a newer app is refused rather than misread.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { CustodyError } from '../../shared/errors.ts';

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Migrations from `import.meta.glob` results (folder `NNNN_name/migration.sql`), ordered by
 * number. Shared with the sync server's migrations (sync/server/provision.ts).
 */
export function migrationsFrom(files: Record<string, string>, what = 'migration'): Migration[] {
  return Object.entries(files)
    .map(([path, sql]) => {
      const dir = path.split('/').at(-2)!;
      const m = /^(\d{4})_([a-z0-9_]+)$/.exec(dir);
      if (!m) throw new Error(`${what} folder "${dir}" must be named NNNN_name`);
      return { id: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.id - b.id);
}

/** The migrations shipped with this build, ordered by their numeric prefix. */
export const MIGRATIONS: readonly Migration[] = migrationsFrom(
  import.meta.glob('../../../prisma/migrations/*/migration.sql', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
);

const LEDGER = `CREATE TABLE IF NOT EXISTS "_custody_migrations" (
  "id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "checksum" TEXT NOT NULL, "applied_at" INTEGER NOT NULL)`;

/** Applies pending migrations; returns the ids it applied. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(LEDGER);
  const applied = db.prepare('SELECT id, name, checksum FROM _custody_migrations ORDER BY id').safeIntegers(false).all() as { id: number; name: string; checksum: string }[];
  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const row of applied) {
    const m = known.get(row.id);
    if (!m)
      throw new CustodyError('DATABASE_TOO_NEW', `this vault was opened by a newer version of Custody (migration ${row.id} "${row.name}"); update the app to open it`);
    if (m.checksum !== row.checksum) throw new CustodyError('VAULT_CORRUPT', `migration ${row.id} "${row.name}" was applied with different SQL than this app ships`);
  }
  const done = new Set(applied.map((r) => r.id));
  const ran: number[] = [];
  const record = db.prepare('INSERT INTO _custody_migrations (id, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, m.name, m.checksum, Date.now());
    }).immediate();
    ran.push(m.id);
  }
  return ran;
}
