// One owner per table, enforced by lint (scripts/table-owners.mjs, wired in eslint.config.js):
// a file outside electron/core/audit/ that names audit_entry, audit_node or audit_checkpoint,
// or outside electron/core/attachments/ that names attachment, in SQL or through Prisma, is an
// error; so is SQL or a Prisma query in an API handler. Prove it bites, that it leaves alone
// what is not the table, and that the tree as committed is clean.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';
import { tablesInSql } from './table-owners.mjs';

const RULES = new Set(['custody/table-owners', 'custody/no-sql-in-handlers']);
const eslint = new ESLint({ ruleFilter: ({ ruleId }) => RULES.has(ruleId) });

/** The messages of `rule` (both rules if none) for `code` linted as if it were at `filePath` (a virtual file). */
async function violations(filePath: string, code: string, rule?: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r!.messages.filter((m) => m.ruleId === null || !rule || m.ruleId === rule).map((m) => (m.ruleId === null ? `parse error: ${m.message}` : m.message));
}

describe('only the owner module names its table', () => {
  test.each([
    // What the audit module's readers did before they moved onto its API.
    ['electron/core/reports/memoryTree.ts', "export const f = (db) => db.prepare('SELECT leaf_hash FROM audit_entry WHERE seq < ? ORDER BY seq').raw().iterate(1);", 'audit_entry'],
    ['electron/core/reports/entries.ts', 'export const f = (db, size) => db.prepare(`SELECT seq, entry FROM audit_entry WHERE seq < ${size}`).all();', 'audit_entry'],
    ['electron/core/sync/client/auditSync.ts', "export const q = 'SELECT size, note FROM audit_checkpoint WHERE size > ? AND size <= ? ORDER BY size';", 'audit_checkpoint'],
    ['electron/core/sync/client/evidence.ts', `export const q = "SELECT 1 FROM audit_entry WHERE target = ? AND event = 'record.purged' LIMIT 1";`, 'audit_entry'],
    ['electron/core/api/settings.ts', `export const q = \`SELECT 1 FROM audit_entry WHERE event = 'settings.changed' LIMIT 1\`;`, 'audit_entry'],
    ['electron/core/backup/x.ts', "export const q = 'DELETE FROM audit_node';", 'audit_node'],
    ['electron/core/sharing/x.ts', "export const q = 'SELECT r.id FROM record r, audit_entry e WHERE e.target = r.id';", 'audit_entry'],
    ['electron/core/x.ts', "export const q = 'PRAGMA table_info(audit_entry)';", 'audit_entry'],
    ['electron/cli/x.ts', "export const q = 'select count(*) from audit_entry';", 'audit_entry'],
    ['electron/core/attachments/x.ts', "export const q = 'UPDATE audit_entry SET entry = NULL';", 'audit_entry'],
    ['electron/core/x.ts', 'export const n = (tx) => tx.auditEntry.count();', 'audit_entry'],
    ['electron/core/x.ts', 'export const n = (p) => p.auditCheckpoint.findMany({ orderBy: { size: "asc" } });', 'audit_entry'],
    // And the attachment module's.
    ['electron/core/api/attachmentHandlers.ts', 'export const f = (c, id) => c.vault.db.prisma.attachment.findUnique({ where: { id }, select: { recordId: true } });', 'attachment'],
    ['electron/core/records/recordStore.ts', 'export const f = (vault, recordId) => vault.db.prisma.attachment.findMany({ where: { recordId }, select: { id: true } });', 'attachment'],
    ['electron/core/sync/client/pull.ts', "export const q = 'SELECT id FROM attachment WHERE record_id = ?';", 'attachment'],
    ['electron/core/sync/client/attachmentSync.ts', "export const q = 'INSERT OR IGNORE INTO attachment (id, record_id, created_at, wrapped_key, meta) VALUES (?, ?, ?, ?, ?)';", 'attachment'],
    ['electron/core/sync/client/engine.ts', `export const q = "INSERT INTO sync_outbox (kind, target_id, created_at) SELECT 'attachment', id, ? FROM attachment";`, 'attachment'],
    ['electron/core/x.ts', "export const q = 'DELETE FROM main.attachment WHERE id = ?';", 'attachment'],
    ['electron/core/x.ts', 'export const q = \'SELECT a.id FROM record r JOIN "attachment" a ON a.record_id = r.id\';', 'attachment'],
    ['electron/core/x.ts', 'export const f = (tx) => tx.attachment.deleteMany({});', 'attachment'],
    ['electron/core/reports/x.ts', 'export const f = (p) => p.record.findMany({ include: { attachments: true } });', 'attachment'],
    ['electron/core/audit/x.ts', "export const q = 'SELECT id FROM attachment';", 'attachment'],
    ['electron/main/x.ts', "export const q = 'SELECT id FROM attachment';", 'attachment'],
  ])('%s may not: %s', async (file, code, table) => {
    const found = await violations(file, code, 'custody/table-owners');
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(table === 'attachment' ? 'electron/core/attachments/' : 'electron/core/audit/');
  });

  test.each([
    ['electron/core/audit/reads.ts', "export const q = 'SELECT seq, entry, leaf_hash AS leafHash, time, target FROM audit_entry WHERE seq < ?';"],
    ['electron/core/audit/subtreeStore.ts', "export const q = 'INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)';"],
    ['electron/core/audit/log.ts', 'export const f = (p) => p.auditEntry.findMany({});'],
    ['electron/core/attachments/rows.ts', "export const q = 'INSERT OR IGNORE INTO attachment (id) VALUES (?)';"],
    ['electron/core/attachments/attachments.ts', 'export const f = (tx) => tx.attachment.create({ data: {} });'],
    // Tests and test support may reach any table (an attack rewrites rows directly).
    ['electron/core/audit/x.test.ts', "export const q = 'UPDATE audit_entry SET entry = ? WHERE seq = ?';"],
    ['electron/core/reports/x.test.ts', "export const q = 'SELECT leaf_hash FROM audit_entry WHERE seq = ?';"],
    ['electron/core/testing/attacks.ts', "export const q = 'DELETE FROM audit_node';"],
    ['electron/core/sync/testing/devices.ts', "export const q = 'SELECT id FROM attachment WHERE record_id = ?';"],
    // Other tables of the same names: the server's (schema custody) and the pulled copies.
    ['electron/core/sync/client/auditSync.ts', "export const q = 'INSERT INTO custody.audit_entry (vault_id, device_id, seq) SELECT $1, $2, u.* FROM unnest($3::bigint[]) AS u';"],
    ['electron/core/sync/client/attachmentSync.ts', "export const q = 'SELECT 1 FROM custody.attachment WHERE vault_id = $1 AND id = $2';"],
    ['electron/core/sync/client/engine.ts', "export const q = 'DELETE FROM remote_audit_entry; DELETE FROM remote_device;';"],
    ['electron/core/sync/client/attachmentSync.ts', 'export const f = (p) => p.serverAttachment.findMany({});'],
    // The word, not the table.
    ['electron/core/reports/scope.ts', 'export const f = (target, a) => target.attachment(a.id);'],
    ['electron/core/x.ts', "export const e = { event: 'attachment.added', kind: 'attachment', why: 'no attachment here' };"],
    ['electron/core/sync/client/engine.ts', `export const q = "INSERT INTO sync_outbox (kind, target_id, created_at) VALUES ('attachment', ?, ?)";`],
    ['electron/core/x.ts', 'export const f = (c, id) => c.attachments.view(id);'],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});

// The meta table (settings, sealed values) belongs to the vault module: what the sync state,
// the policies and the key rotation read and wrote themselves before they went through vault/meta.ts.
describe('only vault/ names the meta table', () => {
  test.each([
    ['electron/core/records/x.ts', "export const q = 'SELECT value FROM meta';"],
    ['electron/core/sync/client/state.ts', "export const f = (sql, k) => sql.prepare('SELECT 1 FROM meta WHERE key = ?').get(k);"],
    ['electron/core/keys/policy.ts', "export const q = 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';"],
    ['electron/core/keys/rewrap.ts', "export const q = 'UPDATE meta SET value = ? WHERE key = ?';"],
    ['electron/core/backup/verifyBackup.ts', 'export const f = (db) => db.prepare(`SELECT key, value FROM "meta"`).all();'],
    ['electron/core/sharing/policy.ts', 'export const f = (p) => p.meta.findMany({});'],
  ])('%s may not: %s', async (file, code) => {
    const found = await violations(file, code, 'custody/table-owners');
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('only electron/core/vault/ may read or write it');
    expect(found[0]).toContain('metaValue');
  });

  test.each([
    ['electron/core/vault/meta.ts', "export const q = 'INSERT INTO meta (key, value) VALUES (?, ?)';"],
    ['electron/core/vault/vault.ts', 'export const f = (tx) => tx.meta.upsert({});'],
    // The object of a vault's settings, not the table.
    ['electron/core/keys/x.ts', 'export const f = (vault) => [vault.meta.deviceId, vault.meta.actor];'],
    ['electron/core/attachments/x.ts', "export const q = 'UPDATE attachment SET meta = ? WHERE id = ?';"],
    ['electron/core/keys/x.test.ts', "export const q = 'DELETE FROM meta';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code, 'custody/table-owners')).toEqual([]);
  });
});

describe('API handlers hold no SQL or Prisma queries', () => {
  test.each([
    ['electron/core/api/x.ts', "export const f = (vault) => vault.db.sql.prepare('SELECT value FROM meta WHERE key = ?').get('settings');"],
    ['electron/core/api/x.ts', 'export const f = (vault) => vault.db.sql.exec(`DELETE FROM sync_record`);'],
    ['electron/core/api/x.ts', 'export const f = (c) => c.vault.db.prisma.record.findMany({});'],
    ['electron/core/api/x.ts', 'export const f = (p) => p.$queryRawUnsafe("x");'],
  ])('%s may not: %s', async (file, code) => {
    const found = await violations(file, code);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join('\n')).toMatch(/API handlers hold no SQL|only electron\/core\//);
  });

  test.each([
    ['electron/core/api/x.ts', "export const f = (c, id) => c.attachments.view(id);\nexport const title = 'Select a file';"],
    ['electron/core/api/x.test.ts', "export const q = 'SELECT value FROM meta';"],
    ['electron/core/vault/x.ts', "export const q = 'SELECT value FROM meta';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});

test('the SQL matcher finds each owned table and nothing else', () => {
  expect(tablesInSql('SELECT * FROM audit_entry e JOIN audit_node n ON 1').map((t) => t.table)).toEqual(['audit_entry', 'audit_node']);
  expect(tablesInSql('UPDATE attachment SET meta = ?').map((t) => t.table)).toEqual(['attachment']);
  expect(tablesInSql('SELECT * FROM attachment_chunk')).toEqual([]);
  expect(tablesInSql('SELECT * FROM custody.audit_checkpoint')).toEqual([]);
  expect(tablesInSql('SELECT value FROM meta WHERE key = ?').map((t) => t.table)).toEqual(['meta']);
  expect(tablesInSql('SELECT * FROM meta_data')).toEqual([]);
});

test('every committed source file keeps to the owners', async () => {
  const files = execFileSync('git', ['ls-files', '-z', '--', 'electron', 'renderer'], { encoding: 'utf8' })
    .split('\0')
    .filter((f) => /\.tsx?$/.test(f) && !f.includes('/generated/') && existsSync(f));
  expect(files.length).toBeGreaterThan(100);
  // Only files that can hold a violation are linted (every one names a table, a model or is a
  // handler): the rest cannot, and linting them all takes long on a busy machine.
  const candidates = files.filter((f) => f.startsWith('electron/core/api/') || /audit_(entry|node|checkpoint)|audit(Entry|Node|Checkpoint)|attachment|(FROM|INTO|UPDATE|JOIN|TABLE)\s+\W?meta\b|\.meta\.(find|create|update|upsert|delete|count)/i.test(readFileSync(f, 'utf8')));
  expect(candidates).toContain('electron/core/sync/client/attachmentSync.ts');
  const results = await eslint.lintFiles(candidates);
  const problems = results.flatMap((r) => r.messages.filter((m) => m.ruleId !== null && RULES.has(m.ruleId)).map((m) => `${r.filePath}:${m.line} ${m.message}`));
  expect(problems).toEqual([]);
}, 300_000);
