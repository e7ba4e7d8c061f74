// The provisioned server against a real PostgreSQL: schema, roles, row-level security,
// append-only audit tables, monthly partitions, analysts. Hand-written SQL over each
// analyst's own connection is what an analyst could try; superuser SQL is what a server
// operator could do.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeEach, expect, test } from 'vitest';
import { describePg } from '../testing/describePg.ts';
import type { TestServer } from '../testing/pg.ts';
import { addAnalyst, provisionServer, rolesFor, SERVER_MIGRATIONS } from './provision.ts';

let server: TestServer;
const clients: pg.Client[] = [];

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

const sqlError = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the statement succeeded');
    },
    (e: { code?: string; message: string }) => e,
  );

/** An analyst with a vault, a record and an audit entry of their own. */
async function analystWithRows(): Promise<{ role: string; db: pg.Client; vaultId: string; recordId: string }> {
  const a = await server.analyst();
  const db = await connect(a.url);
  const vaultId = crypto.randomUUID();
  const recordId = crypto.randomUUID();
  const device = crypto.randomUUID();
  await db.query("INSERT INTO custody.vault (id, header) VALUES ($1, '{}')", [vaultId]);
  await db.query(
    `INSERT INTO custody.record (vault_id, id, kind, captured_at, epoch_day, created_at, updated_at, version, wrapped_dek, summary, content, device_id, change_seq)
     VALUES ($1, $2, 'note', now(), '2026-01-01', now(), now(), 1, '\\x00', '\\x01', '\\x02', $3, 1)`,
    [vaultId, recordId, device],
  );
  await db.query('SELECT custody.ensure_audit_partitions(now(), now())');
  await db.query("INSERT INTO custody.audit_entry (vault_id, device_id, seq, time, entry, leaf_hash) VALUES ($1, $2, 0, now(), '{}', '\\x00')", [vaultId, device]);
  await db.query("INSERT INTO custody.audit_checkpoint (vault_id, device_id, size, note) VALUES ($1, $2, 1, 'note')", [vaultId, device]);
  return { role: a.role, db, vaultId, recordId };
}

describePg('sync server provisioning', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
  });

  test('init creates the schema with a year of monthly audit partitions; running it again changes nothing', async () => {
    const tables = (await server.admin.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'custody' AND tablename NOT LIKE 'audit_entry_%' ORDER BY 1")).rows.map((r) => r.t);
    expect(tables).toEqual(['_migrations', 'attachment', 'attachment_chunk', 'audit_checkpoint', 'audit_entry', 'device', 'device_recipient', 'device_revocation', 'envelope', 'envelope_event', 'envelope_open', 'record', 'record_version', 'reviewer_key', 'vault', 'vault_header', 'vault_key', 'vault_key_envelope']);
    // The year ahead counts from the provisioning's clock, injected here at the last instant of
    // a month: what is expected cannot change if a month ends between provisioning and this check.
    const now = new Date('2025-01-31T23:59:59.999Z');
    expect(await provisionServer(server.adminUrl, SERVER_MIGRATIONS, { now })).toEqual({ database: server.database, roles: rolesFor(server.database), applied: [] });
    const parts = (await server.admin.query<{ t: string }>("SELECT c.relname AS t FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'custody.audit_entry'::regclass ORDER BY 1")).rows.map((r) => r.t);
    const year = Array.from({ length: 13 }, (_, i) => `audit_entry_${2025 + Math.floor(i / 12)}_${String((i % 12) + 1).padStart(2, '0')}`);
    expect(parts).toEqual(expect.arrayContaining(year));
    expect(await provisionServer(server.adminUrl)).toEqual({ database: server.database, roles: rolesFor(server.database), applied: [] });
    const ledger = await server.admin.query('SELECT id, name, checksum FROM custody._migrations');
    expect(ledger.rows).toEqual(SERVER_MIGRATIONS.map((m) => ({ id: m.id, name: m.name, checksum: m.checksum })));
  });

  test('a server migration whose SQL changed after it was applied is refused', async () => {
    const edited = SERVER_MIGRATIONS.map((m) => ({ ...m, checksum: 'different' }));
    await expect(provisionServer(server.adminUrl, edited)).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
  });

  test('the tables are exactly those prisma/server/schema.prisma describes', async () => {
    const TYPES: Record<string, string> = { String: 'text', Int: 'integer', BigInt: 'bigint', Bytes: 'bytea', DateTime: 'timestamp with time zone', Boolean: 'boolean' };
    const schema = readFileSync('prisma/server/schema.prisma', 'utf8');
    const expected: Record<string, string[]> = {};
    for (const [, body] of schema.matchAll(/^model \w+ \{\n([\s\S]*?)^\}/gm)) {
      const table = /@@map\("(\w+)"\)/.exec(body!)![1]!;
      const cols: string[] = [];
      for (const line of body!.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('@@') && !l.startsWith('//'))) {
        const [field, type, ...rest] = line.split(/\s+/);
        const attrs = rest.join(' ');
        const name = /@map\("(\w+)"\)/.exec(attrs)?.[1] ?? field!;
        const sqlType = attrs.includes('@db.Uuid') ? 'uuid' : TYPES[type!.replace('?', '')]!;
        cols.push(`${name} ${sqlType}${type!.endsWith('?') ? '' : ' not null'}`);
      }
      expected[table] = cols.sort();
    }
    const actual: Record<string, string[]> = {};
    const rows = await server.admin.query<{ t: string; c: string; type: string; nullable: string }>(
      "SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = 'custody' AND table_name NOT LIKE 'audit_entry_%'",
    );
    for (const r of rows.rows) (actual[r.t] ??= []).push(`${r.c} ${r.type}${r.nullable === 'NO' ? ' not null' : ''}`);
    for (const t of Object.keys(actual)) actual[t]!.sort();
    expect(actual).toEqual(expected);
  });

  test('row-level security: an analyst can neither read nor write another analyst\'s rows, whatever SQL they write', async () => {
    const a = await analystWithRows();
    const b = await analystWithRows();
    for (const table of ['vault', 'record', 'audit_entry', 'audit_checkpoint']) {
      const seen = await b.db.query(`SELECT count(*)::int AS n FROM custody.${table}`);
      expect(seen.rows[0].n, table).toBe(1); // only b's own row
    }
    expect((await b.db.query('SELECT * FROM custody.record WHERE id = $1', [a.recordId])).rowCount).toBe(0);
    expect((await b.db.query('UPDATE custody.record SET version = 99 WHERE id = $1', [a.recordId])).rowCount).toBe(0);
    expect((await b.db.query('UPDATE custody.vault SET change_seq = 99 WHERE id = $1', [a.vaultId])).rowCount).toBe(0);
    // Writing into a's vault, or as a, is refused outright.
    const intoA = await sqlError(
      b.db.query(
        `INSERT INTO custody.record (vault_id, id, kind, captured_at, epoch_day, created_at, updated_at, version, device_id, change_seq)
         VALUES ($1, $2, 'note', now(), 'd', now(), now(), 1, $2, 1)`,
        [a.vaultId, crypto.randomUUID()],
      ),
    );
    expect(intoA.message).toMatch(/row-level security/);
    const asA = await sqlError(b.db.query('INSERT INTO custody.vault (id, header, owner) VALUES ($1, $2, $3)', [crypto.randomUUID(), '{}', a.role]));
    expect(asA.message).toMatch(/row-level security/);
    // Nor can they go around the policies: partitions, the owner role, turning RLS off.
    const part = (await server.admin.query<{ t: string }>("SELECT c.relname AS t FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'custody.audit_entry'::regclass LIMIT 1")).rows[0]!.t;
    expect((await sqlError(b.db.query(`SELECT * FROM custody.${part}`))).code).toBe('42501');
    expect((await sqlError(b.db.query(`SET ROLE ${rolesFor(server.database).owner}`))).code).toBe('42501');
    expect((await sqlError(b.db.query('ALTER TABLE custody.record DISABLE ROW LEVEL SECURITY'))).code).toBe('42501');
    expect((await sqlError(b.db.query('SET row_security = off; SELECT * FROM custody.record'))).code).toBe('42501');
    expect((await a.db.query('SELECT version FROM custody.record WHERE id = $1', [a.recordId])).rows).toEqual([{ version: 1 }]);
  });

  test('audit tables are append-only: UPDATE, DELETE and TRUNCATE fail for the analyst and for the owning role', async () => {
    const a = await analystWithRows();
    for (const sql of ["UPDATE custody.audit_entry SET entry = 'forged'", 'DELETE FROM custody.audit_entry', 'TRUNCATE custody.audit_entry', "UPDATE custody.audit_checkpoint SET note = 'x'", 'DELETE FROM custody.audit_checkpoint']) {
      expect((await sqlError(a.db.query(sql))).code, sql).toBe('42501');
    }
    // The owner role lost those privileges; given them back, the triggers still refuse.
    const owner = rolesFor(server.database).owner;
    const admin = await connect(server.adminUrl);
    await admin.query(`SET ROLE ${owner}`);
    expect((await sqlError(admin.query("UPDATE custody.audit_entry SET entry = 'forged'"))).code).toBe('42501');
    await admin.query(`GRANT UPDATE, DELETE, TRUNCATE ON custody.audit_entry, custody.audit_checkpoint TO ${owner}`);
    await admin.query('ALTER TABLE custody.audit_entry NO FORCE ROW LEVEL SECURITY');
    await admin.query('ALTER TABLE custody.audit_checkpoint NO FORCE ROW LEVEL SECURITY');
    for (const sql of ["UPDATE custody.audit_entry SET entry = 'forged'", 'DELETE FROM custody.audit_entry', 'TRUNCATE custody.audit_entry', 'DELETE FROM custody.audit_checkpoint']) {
      expect((await sqlError(admin.query(sql))).message, sql).toMatch(/append-only/);
    }
    await admin.query('RESET ROLE');
    // Even the superuser is stopped by the triggers (only disabling them gets through).
    expect((await sqlError(admin.query("UPDATE custody.audit_entry SET entry = 'forged'"))).message).toMatch(/append-only/);
    await admin.query('ALTER TABLE custody.audit_entry FORCE ROW LEVEL SECURITY');
    await admin.query('ALTER TABLE custody.audit_checkpoint FORCE ROW LEVEL SECURITY');
    await admin.query(`REVOKE UPDATE, DELETE, TRUNCATE ON custody.audit_entry, custody.audit_checkpoint FROM ${owner}`);
    expect((await a.db.query('SELECT entry FROM custody.audit_entry')).rows).toEqual([{ entry: '{}' }]);
  });

  test('analysts may not UPDATE or DELETE what sync only ever INSERTs, and a record row only moves forward (server migration 0002)', async () => {
    const a = await analystWithRows();
    const attachment = crypto.randomUUID();
    await a.db.query("INSERT INTO custody.record_version (vault_id, record_id, version, kind, captured_at, epoch_day, saved_at, wrapped_dek, summary, content) VALUES ($1, $2, 0, 'note', now(), '2026-01-01', now(), '\\x00', '\\x01', '\\x02')", [a.vaultId, a.recordId]);
    await a.db.query("INSERT INTO custody.attachment (vault_id, id, record_id, created_at, wrapped_key, meta, blob_size, device_id, change_seq) VALUES ($1, $2, $3, now(), '\\x00', '\\x00', 1, $2, 0)", [a.vaultId, attachment, a.recordId]);
    await a.db.query("INSERT INTO custody.attachment_chunk (vault_id, attachment_id, idx, data) VALUES ($1, $2, 0, '\\x00')", [a.vaultId, attachment]);
    const refused = async (sql: string, params: unknown[] = []) => {
      const e = await sqlError(a.db.query(sql, params));
      expect(e.code, sql).toBe('42501');
      return e.message;
    };
    // Privileges: no DELETE anywhere, no UPDATE of history, chunks, identity columns or the header.
    for (const sql of [
      'DELETE FROM custody.record',
      'DELETE FROM custody.record_version',
      'DELETE FROM custody.attachment',
      'DELETE FROM custody.attachment_chunk',
      "UPDATE custody.record_version SET content = '\\xff'",
      "UPDATE custody.attachment_chunk SET data = '\\xff'",
      "UPDATE custody.attachment SET meta = '\\xff'",
      "UPDATE custody.record SET kind = 'observation'",
      "UPDATE custody.record SET id = gen_random_uuid()",
      "UPDATE custody.vault SET header = '{\"forged\": true}'",
    ])
      expect(await refused(sql), sql).toMatch(/permission denied/);
    // The trigger: a record row cannot go back, change a version's ciphertext, hide a change
    // from pulls (same change number), or lose its ciphertext without becoming a tombstone.
    const where = `WHERE vault_id = '${a.vaultId}' AND id = '${a.recordId}'`;
    expect(await refused(`UPDATE custody.record SET version = 0, change_seq = 2 ${where}`)).toMatch(/cannot go back/);
    expect(await refused(`UPDATE custody.record SET content = '\\xff', change_seq = 2 ${where}`)).toMatch(/a change is a new version/);
    expect(await refused(`UPDATE custody.record SET deleted_at = now() ${where}`)).toMatch(/new change number/);
    expect(await refused(`UPDATE custody.record SET content = NULL, change_seq = 2 ${where}`)).toMatch(/keeps its ciphertext/);
    expect(await refused(`UPDATE custody.record SET purged_at = now(), change_seq = 2 ${where}`)).toMatch(/keeps no ciphertext/);
    await a.db.query('UPDATE custody.vault SET change_seq = 5 WHERE id = $1', [a.vaultId]);
    expect(await refused('UPDATE custody.vault SET change_seq = 1 WHERE id = $1', [a.vaultId])).toMatch(/cannot go back/);
    // purge_records removes nothing of a record that is not a tombstone...
    expect((await a.db.query<{ n: number }>('SELECT custody.purge_records($1, $2::uuid[]) AS n', [a.vaultId, [a.recordId]])).rows[0]!.n).toBe(0);
    // ...nor of another analyst's vault.
    const b = await analystWithRows();
    expect(await sqlError(b.db.query('SELECT custody.purge_records($1, $2::uuid[])', [a.vaultId, [a.recordId]]))).toMatchObject({ code: '42501' });
    // What sync does is allowed: a new version, a trash change, then a purge (tombstone first).
    await a.db.query(`UPDATE custody.record SET version = 2, content = '\\x03', change_seq = 2 ${where}`);
    await a.db.query(`UPDATE custody.record SET deleted_at = now(), change_seq = 3 ${where}`);
    await a.db.query(`UPDATE custody.record SET purged_at = now(), wrapped_dek = NULL, summary = NULL, content = NULL, change_seq = 4 ${where}`);
    expect((await a.db.query<{ n: number }>('SELECT custody.purge_records($1, $2::uuid[]) AS n', [a.vaultId, [a.recordId]])).rows[0]!.n).toBe(2);
    const left = await server.admin.query('SELECT (SELECT count(*) FROM custody.record_version WHERE record_id = $1)::int AS versions, (SELECT count(*) FROM custody.attachment_chunk WHERE attachment_id = $2)::int AS chunks', [a.recordId, attachment]);
    expect(left.rows[0]).toEqual({ versions: 0, chunks: 0 });
    expect(await refused(`UPDATE custody.record SET purged_at = NULL, change_seq = 5 ${where}`)).toMatch(/tombstone is final/);
  });

  test('audit entries go to the partition of their month; clients create missing months, not far-future ones', async () => {
    const a = await analystWithRows();
    expect((await a.db.query<{ n: number }>("SELECT custody.ensure_audit_partitions('2024-03-05Z', '2024-05-01Z') AS n")).rows[0]!.n).toBe(3);
    expect((await a.db.query<{ n: number }>("SELECT custody.ensure_audit_partitions('2024-03-05Z', '2024-05-01Z') AS n")).rows[0]!.n).toBe(0);
    await a.db.query("INSERT INTO custody.audit_entry (vault_id, device_id, seq, time, leaf_hash) VALUES ($1, $2, 5, '2024-04-30T23:59:59Z', '\\x00')", [a.vaultId, crypto.randomUUID()]);
    const where = await server.admin.query<{ part: string }>("SELECT tableoid::regclass::text AS part FROM custody.audit_entry WHERE time = '2024-04-30T23:59:59Z'");
    expect(where.rows).toEqual([{ part: 'custody.audit_entry_2024_04' }]);
    // A partition made by a client is as append-only as the others.
    expect((await sqlError(server.admin.query("DELETE FROM custody.audit_entry_2024_04"))).message).toMatch(/append-only/);
    expect((await sqlError(server.admin.query('TRUNCATE custody.audit_entry_2024_04'))).message).toMatch(/append-only/);
    expect((await sqlError(a.db.query("SELECT custody.ensure_audit_partitions(now(), now() + interval '5 years')"))).message).toMatch(/device clock/);
    expect((await sqlError(a.db.query("INSERT INTO custody.audit_entry (vault_id, device_id, seq, time, leaf_hash) VALUES ($1, $1, 0, '2001-01-01Z', '\\x00')", [a.vaultId]))).message).toMatch(/no partition/);
  });

  test('add-analyst creates a login role with a working password, and refuses bad or taken names', async () => {
    const name = `an_${Math.random().toString(36).slice(2, 10)}`;
    const a = await addAnalyst(server.adminUrl, name, { host: '127.0.0.1', sslmode: 'disable' });
    const c = new pg.Client({ connectionString: a.url });
    try {
      expect(a.url).toMatch(new RegExp(`^postgresql://${name}:[A-Za-z0-9_-]{32}@127\\.0\\.0\\.1:5432/${server.database}\\?sslmode=disable$`));
      await c.connect();
      expect((await c.query('SELECT current_user AS u')).rows).toEqual([{ u: name }]);
      const member = await server.admin.query('SELECT pg_has_role($1, $2, \'MEMBER\') AS m', [name, rolesFor(server.database).analyst]);
      expect(member.rows).toEqual([{ m: true }]);
      await expect(addAnalyst(server.adminUrl, name)).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(addAnalyst(server.adminUrl, 'Robert"); DROP TABLE x; --')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      // The default printed connection string asks for TLS with the server's name verified.
      const other = await addAnalyst(server.adminUrl, `${name}_2`);
      expect(other.url).toMatch(/\?sslmode=verify-full$/);
      await server.admin.query(`DROP ROLE ${name}_2`);
    } finally {
      await c.end().catch(() => undefined);
      await server.admin.query(`DROP ROLE IF EXISTS ${name}`);
    }
  });
});
