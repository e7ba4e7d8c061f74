// Provisioning of the PostgreSQL sync server (`custody server init` / `add-analyst`): run by
// an administrator (a superuser, or a database owner with CREATEROLE), never by the app.
//
// Roles are named after the database, so one cluster can host several deployments:
//   <db>_owner    NOLOGIN: owns the schema, its tables and functions;
//   <db>_analyst  NOLOGIN: the template analysts' login roles are members of (privileges).
// The SQL migrations in prisma/server/migrations run in order, each in its own transaction as
// the owner role, recorded with their checksum in custody._migrations (as the local ones).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CustodyError } from '../../../shared/errors.ts';
import { migrationsFrom, type Migration } from '../../db/migrate.ts';
import { safeError, sqlState } from './connectionString.ts';
import { scramVerifier } from './scram.ts';
import { assertPrivateConnection, isLocal } from './urlPolicy.ts';

export type ServerMigration = Migration;

export const SERVER_MIGRATIONS: readonly ServerMigration[] = migrationsFrom(
  import.meta.glob('../../../../prisma/server/migrations/*/migration.sql', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
  'server migration',
);

/** The schema version this build of the app speaks. */
export const SERVER_SCHEMA_VERSION = SERVER_MIGRATIONS.at(-1)?.id ?? 0;

export interface Roles {
  owner: string;
  analyst: string;
}

export const rolesFor = (database: string): Roles => ({ owner: `${database}_owner`, analyst: `${database}_analyst` });

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  // The administrator's password deserves the same protection as an analyst's.
  assertPrivateConnection(adminUrl);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw safeError(e, adminUrl, 'cannot connect to the PostgreSQL server');
  }
  try {
    return await fn(client);
  } catch (e) {
    throw safeError(e, adminUrl, 'provisioning failed');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureRole(c: pg.Client, name: string): Promise<void> {
  const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  if (exists.rowCount) return;
  try {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(name)} NOLOGIN`);
  } catch (e) {
    if (sqlState(e) !== '42710') throw e; // created meanwhile by a concurrent init
  }
}

export interface ProvisionResult {
  database: string;
  roles: Roles;
  /** Migration ids applied by this run (empty when the schema was up to date). */
  applied: number[];
}

export interface ProvisionOptions {
  /** The time the year of audit partitions ahead starts from (default: the database's clock); tests fix it. */
  now?: Date;
}

/** Creates or upgrades the sync schema; safe to run again. */
export async function provisionServer(adminUrl: string, migrations: readonly ServerMigration[] = SERVER_MIGRATIONS, opts: ProvisionOptions = {}): Promise<ProvisionResult> {
  return withAdmin(adminUrl, async (c) => {
    const { database, superuser } = (await c.query<{ database: string; superuser: boolean }>("SELECT current_database() AS database, current_setting('is_superuser') = 'on' AS superuser")).rows[0]!;
    const roles = rolesFor(database);
    if (!ROLE_NAME.test(roles.analyst)) throw new CustodyError('BAD_REQUEST', `database name "${database}" gives invalid role names; use lower-case letters, digits and _ (at most 54 characters)`);
    const owner = c.escapeIdentifier(roles.owner);
    await ensureRole(c, roles.owner);
    await ensureRole(c, roles.analyst);
    // A non-superuser administrator acts as the owner role through membership.
    if (!superuser) await c.query(`GRANT ${owner} TO CURRENT_USER`);
    await c.query(`CREATE SCHEMA IF NOT EXISTS custody AUTHORIZATION ${owner}`);
    await c.query(`SET ROLE ${owner}`);
    await c.query('CREATE TABLE IF NOT EXISTS custody._migrations (id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    await c.query('RESET ROLE');

    const applied = (await c.query<{ id: number; name: string; checksum: string }>('SELECT id, name, checksum FROM custody._migrations ORDER BY id')).rows;
    const known = new Map(migrations.map((m) => [m.id, m]));
    for (const row of applied) {
      const m = known.get(row.id);
      if (!m) throw new CustodyError('DATABASE_TOO_NEW', `the server schema was provisioned by a newer Custody (migration ${row.id} "${row.name}"); update the app`);
      if (m.checksum !== row.checksum) throw new CustodyError('VAULT_CORRUPT', `server migration ${row.id} "${row.name}" was applied with different SQL than this app ships`);
    }
    const done = new Set(applied.map((r) => r.id));
    const ran: number[] = [];
    const substitute = (sql: string) => sql.replaceAll('{{owner}}', owner).replaceAll('{{analyst}}', c.escapeIdentifier(roles.analyst));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await c.query('BEGIN');
      try {
        await c.query(`SET LOCAL ROLE ${owner}`);
        await c.query(substitute(m.sql));
        await c.query('INSERT INTO custody._migrations (id, name, checksum) VALUES ($1, $2, $3)', [m.id, m.name, m.checksum]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      ran.push(m.id);
    }
    // Keeps a year of monthly audit partitions ahead (run again monthly, e.g. from cron).
    await c.query(`SET ROLE ${owner}`);
    if (opts.now) await c.query("SELECT custody.ensure_audit_partitions($1::timestamptz, $1::timestamptz + interval '12 months')", [opts.now.toISOString()]);
    else await c.query('SELECT custody.create_audit_partitions(12)');
    await c.query('RESET ROLE');
    return { database, roles, applied: ran };
  });
}

export interface AnalystOptions {
  /** Host and port the analyst connects to (default: those of the admin connection, or localhost). */
  host?: string;
  port?: number;
  /**
   * Default verify-full: TLS with the server's certificate checked against its name.
   * verify-ca: the analyst adds the CA certificate (custody sync configure --ssl-root-cert).
   * disable: only for a server on the analyst's own machine (the app refuses it otherwise).
   */
  sslmode?: 'verify-full' | 'verify-ca' | 'disable';
}

export interface Analyst {
  role: string;
  /** The analyst's connection string, with their password: shown once, stored nowhere here. */
  url: string;
}

/**
 * Creates an analyst's login role (member of the analyst template) with a random password.
 * The password reaches the server only as a SCRAM-SHA-256 verifier, so it cannot appear in
 * the server's statement log.
 */
export async function addAnalyst(adminUrl: string, name: string, opts: AnalystOptions = {}): Promise<Analyst> {
  if (!ROLE_NAME.test(name)) throw new CustodyError('BAD_REQUEST', `"${name}" is not a valid analyst name: use lower-case letters, digits and _ (starting with a letter or _)`);
  if (opts.sslmode && !['verify-full', 'verify-ca', 'disable'].includes(opts.sslmode)) throw new CustodyError('BAD_REQUEST', `sslmode ${opts.sslmode} does not protect the connection: use verify-full or verify-ca`);
  return withAdmin(adminUrl, async (c) => {
    const database = (await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    const roles = rolesFor(database);
    const provisioned = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roles.analyst]);
    if (!provisioned.rowCount) throw new CustodyError('BAD_REQUEST', `the database "${database}" is not provisioned; run "custody server init" first`);
    if (name === roles.owner || name === roles.analyst) throw new CustodyError('BAD_REQUEST', `"${name}" is a role of the deployment itself`);
    const host = opts.host ?? (c.host && !c.host.startsWith('/') ? c.host : 'localhost');
    if (opts.sslmode === 'disable' && !isLocal(host)) throw new CustodyError('BAD_REQUEST', `sslmode=disable sends the analyst's password unencrypted: only for a server on the analyst's own machine, not ${host}`);
    const password = randomBytes(24).toString('base64url');
    try {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(name)} LOGIN PASSWORD ${c.escapeLiteral(scramVerifier(password))} IN ROLE ${c.escapeIdentifier(roles.analyst)}`);
    } catch (e) {
      if (sqlState(e) === '42710') throw new CustodyError('CONFLICT', `a role named "${name}" already exists`);
      throw e;
    }
    const port = opts.port ?? c.port ?? 5432;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const url = `postgresql://${name}:${password}@${hostPart}:${port}/${encodeURIComponent(database)}?sslmode=${opts.sslmode ?? 'verify-full'}`;
    return { role: name, url };
  });
}
