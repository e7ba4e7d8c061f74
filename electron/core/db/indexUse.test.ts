// Every index of the record, record_version and audit_entry tables is there for a query of the
// code: each costs time on every insert (bulk import writes one record and one audit entry per
// record), so one no query uses should be dropped. This proves, with SQLite's query plans on the
// migrated schema, that each index is chosen by the query named beside it, and that no index
// exists beyond those: a new index without a query, or a query changed so that its index is no
// longer used, fails here. The query texts are checked to still be in the named source files.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { migrate } from './migrate.ts';

const core = join(__dirname, '..');

interface Use {
  index: string;
  /** Where the query lives and a fragment of it as written there. */
  file: string;
  fragment: string;
  /** The query as it runs (parameters as literals). */
  sql: string;
}

const USES: Use[] = [
  {
    index: 'record_deleted_at_captured_at_id_idx',
    file: 'records/recordStore.ts',
    fragment: 'ORDER BY captured_at DESC, id DESC LIMIT @limit OFFSET @offset',
    // RecordStore.listPage, default listing (trash excluded): the page comes in order, unsorted.
    sql: 'SELECT id, kind, captured_at, epoch_day, updated_at, version, deleted_at, wrapped_dek, summary, content FROM record WHERE deleted_at IS NULL AND 1 AND 1 AND 1 ORDER BY captured_at DESC, id DESC LIMIT 100 OFFSET 0',
  },
  {
    index: 'record_deleted_at_captured_at_id_idx',
    file: 'backup/status.ts',
    fragment: 'SELECT count(*) AS n FROM record WHERE deleted_at IS NOT NULL',
    sql: 'SELECT count(*) AS n FROM record WHERE deleted_at IS NOT NULL',
  },
  {
    index: 'record_captured_at_idx',
    file: 'records/recordStore.ts',
    fragment: "'SELECT (SELECT count(*) FROM record) - (SELECT count(*) FROM record WHERE deleted_at IS NOT NULL)'",
    // RecordStore.listPage, default listing: the count, as every record (the narrowest index) less the trash.
    sql: 'SELECT (SELECT count(*) FROM record) - (SELECT count(*) FROM record WHERE deleted_at IS NOT NULL)',
  },
  {
    index: 'record_captured_at_idx',
    file: 'records/recordStore.ts',
    fragment: "q.capturedFrom ? 'captured_at >= @from'",
    // RecordStore.listPage with a captured-at range and the trash included: the count and the page.
    sql: 'SELECT count(*) FROM record WHERE 1 AND 1 AND captured_at >= 1767225600000 AND captured_at <= 1769904000000',
  },
  {
    index: 'record_captured_at_idx',
    file: 'keys/recordKeys.ts',
    fragment: "FROM record WHERE captured_at >= ? AND captured_at < ?').all(dayStart, dayEnd)",
    // rotateRecordKeys, one day's records (epoch_day is the UTC day of captured_at).
    sql: 'SELECT id, kind, captured_at AS capturedAt, version, wrapped_dek AS w, summary, content FROM record WHERE captured_at >= 1767225600000 AND captured_at < 1767312000000',
  },
  {
    index: 'record_captured_at_idx',
    file: 'keys/recordKeys.ts',
    fragment: 'SELECT min(captured_at) AS lo, max(captured_at) AS hi FROM record',
    // rotateRecordKeys without --from/--until: the first and last day of the vault.
    sql: 'SELECT min(captured_at) AS lo, max(captured_at) AS hi FROM record',
  },
  {
    index: 'record_captured_at_idx',
    file: 'keys/recordKeys.ts',
    fragment: 'SELECT epoch_day FROM record WHERE captured_at >= ? AND captured_at < ? UNION',
    // rotateRecordKeys, the days left to re-encrypt.
    sql: 'SELECT epoch_day FROM record WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000 UNION SELECT epoch_day FROM record_version WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000 ORDER BY 1',
  },
  {
    index: 'record_version_captured_at_idx',
    file: 'keys/recordKeys.ts',
    fragment: 'UNION SELECT epoch_day FROM record_version WHERE captured_at >= ? AND captured_at < ?',
    // rotateRecordKeys, the days left to re-encrypt: the earlier versions' days.
    sql: 'SELECT epoch_day FROM record WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000 UNION SELECT epoch_day FROM record_version WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000 ORDER BY 1',
  },
  {
    index: 'record_version_captured_at_idx',
    file: 'keys/recordKeys.ts',
    fragment: 'FROM record_version WHERE captured_at >= ? AND captured_at < ?',
    // reencryptDay, one day's earlier versions (migration 0012: it read the whole table per day).
    sql: 'SELECT record_id AS id, version, kind, captured_at AS capturedAt, wrapped_dek AS w, summary, content FROM record_version WHERE captured_at >= 1767225600000 AND captured_at < 1767312000000',
  },
  {
    index: 'record_captured_at_idx',
    file: 'attachments/rekey.ts',
    fragment: 'JOIN record r ON r.id = a.record_id WHERE r.captured_at >= ? AND r.captured_at < ?',
    // rotateRecordKeys, the attachments of one day's records (attachmentsCapturedIn).
    sql: 'SELECT a.id, a.record_id AS recordId FROM attachment a JOIN record r ON r.id = a.record_id WHERE r.captured_at >= 1767225600000 AND r.captured_at < 1767312000000 ORDER BY a.id',
  },
  {
    index: 'record_deleted_at_captured_at_id_idx',
    file: 'sharing/disclose.ts',
    fragment: 'FROM record WHERE captured_at >= ? AND captured_at < ? AND deleted_at IS NULL ORDER BY captured_at, id',
    // A disclosure of whole days: the records of those days, out of the trash, in order.
    sql: 'SELECT id, kind, captured_at, epoch_day, created_at, updated_at, version, wrapped_dek, summary, content FROM record WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000 AND deleted_at IS NULL ORDER BY captured_at, id',
  },
  {
    index: 'record_captured_at_idx',
    file: 'sharing/disclose.ts',
    fragment: 'FROM record WHERE captured_at >= ? AND captured_at < ?\')',
    // A disclosure under a classification policy: every record the day keys open, trash included.
    sql: 'SELECT id, kind, captured_at, epoch_day, version, wrapped_dek, summary FROM record WHERE captured_at >= 1767225600000 AND captured_at < 1769904000000',
  },
  {
    index: 'record_captured_at_idx',
    file: 'keys/deviceRevocation.ts',
    fragment: "SELECT 1 FROM record WHERE captured_at >= ? LIMIT 1",
    // revokeDevice: whether records of today (or later) exist.
    sql: 'SELECT 1 FROM record WHERE captured_at >= 1767225600000 LIMIT 1',
  },
  {
    index: 'audit_entry_time_idx',
    file: 'audit/log.ts',
    fragment: 'FROM audit_entry WHERE time BETWEEN ? AND ? GROUP BY day, event ORDER BY day',
    // AuditLog.stats over a time range.
    sql: "SELECT strftime('%Y-%m-%d', time / 1000, 'unixepoch') AS day, event, count(*) AS n, sum(success) AS ok, sum(pruned_at IS NOT NULL) AS pruned FROM audit_entry WHERE time BETWEEN 1767225600000 AND 1769904000000 GROUP BY day, event ORDER BY day",
  },
  {
    index: 'audit_entry_time_idx',
    file: 'audit/reads.ts',
    fragment: 'SELECT max(time) FROM audit_entry',
    // AuditReads.lastEntryTime: read at every append (a clock going backwards is refused).
    sql: 'SELECT max(time) FROM audit_entry',
  },
  {
    index: 'audit_entry_event_time_idx',
    file: 'audit/reads.ts',
    fragment: 'WHERE event = ? AND success = 1 ORDER BY seq DESC LIMIT 1',
    // AuditReads.lastEntryOf (the last backup, the last retention run, ...).
    sql: "SELECT seq, entry, leaf_hash AS leafHash, time, target FROM audit_entry WHERE event = 'backup.created' AND success = 1 ORDER BY seq DESC LIMIT 1",
  },
  {
    index: 'audit_entry_event_time_idx',
    file: 'audit/retention.ts',
    fragment: "WHERE event = 'retention.run' AND entry IS NOT NULL ORDER BY seq",
    sql: "SELECT seq, entry, leaf_hash FROM audit_entry WHERE event = 'retention.run' AND entry IS NOT NULL ORDER BY seq",
  },
  {
    index: 'audit_entry_target_idx',
    file: 'audit/reads.ts',
    fragment: 'WHERE target IN (',
    // AuditReads.entriesAbout: a record's chain of custody (reports, disclosure, the history panel).
    sql: "SELECT seq, entry, leaf_hash AS leafHash, time, target FROM audit_entry WHERE target IN ('record:a', 'record:b') AND seq < 1000",
  },
  {
    index: 'audit_entry_target_idx',
    file: 'audit/reads.ts',
    fragment: "sql += ' AND target = @target'",
    // AuditReads.hasEntry with a target.
    sql: "SELECT 1 FROM audit_entry WHERE event = 'record.viewed' AND target = 'record:a' LIMIT 1",
  },
  {
    index: 'sqlite_autoindex_record_version_1',
    file: 'sync/client/pull.ts',
    fragment: 'SELECT * FROM record_version WHERE record_id = ? AND version > ? ORDER BY version',
    // The primary key (record_id, version): a record's later versions, when a pull rebases them.
    sql: "SELECT * FROM record_version WHERE record_id = 'a' AND version > 1 ORDER BY version",
  },
];

const plan = (db: Database.Database, sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');

describe('indexes of record, record_version and audit_entry', () => {
  const db = new Database(':memory:');
  migrate(db);

  test.each(USES)('$index is used by the query in $file', (use) => {
    expect(readFileSync(join(core, use.file), 'utf8')).toContain(use.fragment);
    expect(plan(db, use.sql)).toMatch(new RegExp(`INDEX ${use.index}\\b`));
  });

  test('no index of these tables exists that no named query uses', () => {
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('record', 'record_version', 'audit_entry') ORDER BY name").pluck().all() as string[]).filter(
      // The primary key of record (a TEXT id in a rowid table) is how every row is found by id.
      (name) => name !== 'sqlite_autoindex_record_1',
    );
    expect(indexes).toEqual([...new Set(USES.map((u) => u.index))].sort());
  });

  test('the queries of whole UTC days scan neither the record table nor its versions', () => {
    for (const u of USES.filter((x) => x.file === 'keys/recordKeys.ts' || x.file === 'sharing/disclose.ts')) expect(plan(db, u.sql)).not.toMatch(/SCAN record(_version)?\b(?! USING)/);
  });

  test('the listing of the newest records reads its index in order instead of sorting', () => {
    expect(plan(db, USES[0]!.sql)).not.toContain('TEMP B-TREE');
  });
});
