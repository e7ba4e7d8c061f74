// A fresh PostgreSQL database provisioned with the real CLI (`custody server init` and
// `add-analyst`), for the desktop sync spec. The vitest sync tests (which run first in
// `npm test`) start the cluster and give the OS user a superuser role; see
// electron/core/sync/testing/pg.ts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';

const socket = (user: string, db: string) => `postgresql://${user}@/${db}?host=/var/run/postgresql`;

export async function syncServer(): Promise<{ analystUrl: string; admin: pg.Client; cleanup(): Promise<void> }> {
  const user = process.env.CUSTODY_PG_ADMIN_USER ?? userInfo().username;
  const db = `custody_e2e_${randomBytes(5).toString('hex')}`;
  const maint = new pg.Client({ connectionString: socket(user, 'postgres') });
  await maint.connect();
  await maint.query(`CREATE DATABASE ${db}`);
  const adminUrl = socket(user, db);
  const cli = (...args: string[]) => execFileSync(process.execPath, ['out/cli/custody.mjs', ...args, '--admin-url', adminUrl, '--json'], { encoding: 'utf8' });
  cli('server', 'init');
  const analyst = JSON.parse(cli('server', 'add-analyst', `e2e_${randomBytes(4).toString('hex')}`, '--host', '127.0.0.1')) as { role: string; url: string };
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  return {
    // add-analyst asks for verify-full TLS, as real deployments must; this loopback test server has no TLS.
    analystUrl: analyst.url.replace('sslmode=verify-full', 'sslmode=disable'),
    admin,
    async cleanup() {
      await admin.end();
      await maint.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await maint.query(`DROP ROLE IF EXISTS "${analyst.role}"`).catch(() => undefined);
      await maint.end();
    },
  };
}
