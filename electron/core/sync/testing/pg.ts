// Test and benchmark support: a real PostgreSQL 15. Each test file gets its own database
// (random name, so its roles <db>_owner and <db>_analyst are its own too) and analysts
// with random names and passwords; cleanup drops all of them.
//
// The administrator connects as a superuser over the unix socket (peer authentication):
// $CUSTODY_PG_ADMIN_URL, else postgres@ on /var/run/postgresql. Run as root, where peer
// authentication refuses "postgres", it falls back to a superuser role named after the OS
// user, creating it once with `su postgres -c psql`. If the cluster is stopped and this is
// root, it starts it (pg_ctlcluster 15 main start). If PostgreSQL still cannot be reached the
// tests fail with that reason, unless CUSTODY_SKIP_PG=1 reports them skipped (describePg.ts).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import { addAnalyst, provisionServer, rolesFor } from '../server/provision.ts';

const SOCKET_DIR = '/var/run/postgresql';

const socketUrl = (user: string, db = 'postgres') => `postgresql://${user}@/${db}?host=${SOCKET_DIR}`;

async function tryConnect(url: string): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.end();
    return { ok: true };
  } catch (error) {
    await c.end().catch(() => undefined);
    return { ok: false, error };
  }
}

const isRoot = () => process.getuid?.() === 0;
const sqlState = (e: unknown) => (e as { code?: string }).code;

let adminBase: Promise<string> | undefined;

/** A superuser connection string to the maintenance database; throws a clear error if none. */
export function adminUrl(): Promise<string> {
  adminBase ??= (async () => {
    const wanted = process.env.CUSTODY_PG_ADMIN_URL ?? socketUrl('postgres');
    let r = await tryConnect(wanted);
    if (!r.ok && isRoot() && !process.env.CUSTODY_PG_ADMIN_URL && ['ECONNREFUSED', 'ENOENT'].includes(sqlState(r.error) ?? '')) {
      try {
        execFileSync('pg_ctlcluster', ['15', 'main', 'start'], { stdio: 'ignore' });
      } catch {
        // Already running, or started by someone else meanwhile: pg_isready decides.
      }
      for (let i = 0; i < 30 && !r.ok; i++) {
        await new Promise((res) => setTimeout(res, 500));
        r = await tryConnect(wanted);
      }
    }
    if (r.ok) return wanted;
    // Peer authentication maps OS user root to no role; give it a superuser role of its name.
    if (sqlState(r.error) === '28000' && isRoot() && !process.env.CUSTODY_PG_ADMIN_URL) {
      const user = userInfo().username;
      const viaOsUser = socketUrl(user);
      if (!(await tryConnect(viaOsUser)).ok) {
        try {
          execFileSync('su', ['postgres', '-c', `psql -v ON_ERROR_STOP=1 -qc 'CREATE ROLE "${user}" SUPERUSER LOGIN'`], { stdio: 'pipe' });
        } catch {
          // The role may have been created by a concurrent test file; the connection decides.
        }
      }
      const r2 = await tryConnect(viaOsUser);
      if (r2.ok) return viaOsUser;
      r = r2;
    }
    const why = r.error instanceof Error ? r.error.message : String(r.error);
    throw new Error(
      `PostgreSQL is not reachable for the sync tests (${why}). Start it (pg_ctlcluster 15 main start; pg_isready), ` +
        'set CUSTODY_PG_ADMIN_URL to a superuser connection string, or set CUSTODY_SKIP_PG=1 to skip these tests.',
    );
  })();
  return adminBase;
}

export interface TestServer {
  database: string;
  /** Superuser connection string to the test database. */
  adminUrl: string;
  /** A superuser client on the test database (for tampering and inspection). */
  admin: pg.Client;
  /** Creates an analyst (random name unless given) and returns its TCP connection string. */
  analyst(name?: string): Promise<{ role: string; url: string }>;
  /** Drops this role on cleanup too (an analyst created by other means, e.g. the CLI). */
  track(role: string): void;
  cleanup(): Promise<void>;
}

const withDb = (url: string, db: string) => url.replace(/\/[^/?]*(\?|$)/, `/${db}$1`);

/** A fresh database with its own roles, provisioned unless told not to. */
export async function testServer(opts: { provision?: boolean } = {}): Promise<TestServer> {
  const base = await adminUrl();
  const database = `custody_t${randomBytes(6).toString('hex')}`;
  const maint = new pg.Client({ connectionString: base });
  await maint.connect();
  try {
    await maint.query(`CREATE DATABASE ${database}`);
  } finally {
    await maint.end();
  }
  const url = withDb(base, database);
  if (opts.provision !== false) await provisionServer(url);
  const admin = new pg.Client({ connectionString: url });
  admin.on('error', () => undefined);
  await admin.connect();
  const analysts: string[] = [];
  return {
    database,
    adminUrl: url,
    admin,
    async analyst(name = `a_${randomBytes(5).toString('hex')}`) {
      const a = await addAnalyst(url, name, { host: '127.0.0.1', port: 5432, sslmode: 'disable' });
      analysts.push(a.role);
      return a;
    },
    track(role) {
      analysts.push(role);
    },
    async cleanup() {
      await admin.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        const roles = rolesFor(database);
        for (const role of [...analysts, roles.analyst, roles.owner]) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Ends every connection an analyst has open (a server restart, as far as that analyst sees). */
export async function terminateBackends(admin: pg.Client, role: string): Promise<number> {
  const r = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1) t', [role]);
  return (r.rows[0] as { n: number }).n;
}

/** Every row of every table of the custody schema, as COPY text (for plaintext canaries). */
export async function dumpServer(admin: pg.Client): Promise<string> {
  const tables = await admin.query<{ name: string }>("SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = 'custody' ORDER BY 1");
  let out = '';
  for (const { name } of tables.rows) {
    const rows = await admin.query(`SELECT t::text AS row FROM ${name} t`);
    out += `-- ${name}\n${rows.rows.map((r: { row: string }) => r.row).join('\n')}\n`;
  }
  return out;
}
