// Bulk import of records from JSON or CSV: all rows are validated first, then written in one
// transaction (all or nothing per file) through prepared statements — the hot path where
// Prisma's per-query overhead would dominate; the rows are the same the Prisma model reads.
import { createHash } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { CustodyError } from '../../shared/errors.ts';
import { FIELD_TYPES, type Field, type FieldType, type RecordData, type RecordInput } from '../../shared/records.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { target, type AuditInput } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { utcDay } from '../util/time.ts';
import type { Vault } from '../vault/vault.ts';
import { sealFields, wrapDek } from './codec.ts';
import { RecordStore, splitInput } from './recordStore.ts';

export type ImportFormat = 'json' | 'csv';
export type Progress = (done: number, total: number) => void;

export interface ImportedRecord {
  id: string;
  data: RecordData;
}

/** Reads records from a JSON array (or `{ "records": [...] }`) of record inputs. */
export function parseJsonRecords(text: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CustodyError('IMPORT_FAILED', `the file is not valid JSON: ${(e as Error).message}`);
  }
  const rows = Array.isArray(doc) ? doc : (doc as { records?: unknown })?.records;
  if (!Array.isArray(rows)) throw new CustodyError('IMPORT_FAILED', 'a JSON import is an array of records, or an object with a "records" array');
  return rows;
}

/**
 * CSV columns (header row, any order): kind, title, body, case, tags (separated by ";"),
 * classification, captured_at (ISO 8601), and one `field:<name>:<type>` column per typed
 * observation field (type text | number | date | location; a location is "lat,lon[,label]").
 * Empty cells are omitted; unknown columns are an error, so a typo is not silently dropped.
 */
export function parseCsvRecords(text: string): unknown[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (e) {
    throw new CustodyError('IMPORT_FAILED', `the file is not valid CSV: ${(e as Error).message}`);
  }
  const plain = new Set(['kind', 'title', 'body', 'case', 'tags', 'classification', 'captured_at']);
  return rows.map((row, i) => {
    const out: Record<string, unknown> = { kind: 'note' };
    const fields: Field[] = [];
    for (const [col, value] of Object.entries(row)) {
      if (value === '') continue;
      if (plain.has(col)) {
        if (col === 'tags') out.tags = value.split(';').map((t) => t.trim()).filter(Boolean);
        else out[col === 'captured_at' ? 'capturedAt' : col] = value;
        continue;
      }
      const m = /^field:([^:]+):([a-z]+)$/.exec(col);
      if (!m || !FIELD_TYPES.includes(m[2] as FieldType))
        throw new CustodyError('IMPORT_FAILED', `row ${i + 2}: unknown column "${col}" (expected kind, title, body, case, tags, classification, captured_at or field:<name>:<${FIELD_TYPES.join('|')}>)`);
      fields.push(csvField(m[1]!, m[2] as FieldType, value, i + 2));
    }
    if (fields.length) out.fields = fields;
    return out;
  });
}

function csvField(name: string, type: FieldType, value: string, line: number): Field {
  switch (type) {
    case 'number': {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new CustodyError('IMPORT_FAILED', `row ${line}: field "${name}" is not a number`);
      return { name, type, value: n };
    }
    case 'location': {
      const [lat, lon, ...label] = value.split(',');
      const loc = { lat: Number(lat), lon: Number(lon), ...(label.length ? { label: label.join(',').trim() } : {}) };
      if (!Number.isFinite(loc.lat) || !Number.isFinite(loc.lon)) throw new CustodyError('IMPORT_FAILED', `row ${line}: field "${name}" must be "lat,lon[,label]"`);
      return { name, type, value: loc };
    }
    default:
      return { name, type, value } as Field;
  }
}

/** Validates every row; the first bad row fails the whole file. */
export function validateRecords(rows: unknown[], firstLine = 1): RecordData[] {
  return rows.map((row, i) => {
    try {
      return RecordStore.parseInput(row);
    } catch (e) {
      throw new CustodyError('IMPORT_FAILED', `record ${i + firstLine}: ${(e as Error).message}; nothing was imported`);
    }
  });
}

/**
 * Encrypts and inserts records with their audit entries in one transaction.
 * `extra` audit entries (e.g. the import itself) join the same transaction.
 */
export async function insertRecords(vault: Vault, records: readonly RecordData[], opts: { onProgress?: Progress; extra?: AuditInput[]; via?: string } = {}): Promise<ImportedRecord[]> {
  const keys = vault.keys();
  const { vaultId } = vault;
  const insert = vault.db.sql.prepare(
    'INSERT INTO record (id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?)',
  );
  const every = Math.max(1, Math.floor(records.length / 100));
  return vault.db.writeSync(() => {
    const now = new Date();
    const ms = now.getTime();
    const out: ImportedRecord[] = [];
    const audit: AuditInput[] = [];
    records.forEach((data, i) => {
      const id = uuidv7(ms);
      const capturedAt = data.capturedAt ? Date.parse(data.capturedAt) : ms;
      const day = utcDay(new Date(capturedAt));
      const dek = randomKey();
      const { summary, content } = splitInput(data);
      const sealed = sealFields(dek, vaultId, id, 1, summary, content);
      insert.run(id, data.kind, capturedAt, day, ms, ms, wrapDek(keys, vaultId, id, day, dek), sealed.summary, sealed.content);
      wipe(dek);
      audit.push({ event: 'record.created', target: target.record(id), details: { kind: data.kind, ...(opts.via ? { via: opts.via } : {}) } });
      out.push({ id, data });
      if (opts.onProgress && (i + 1) % every === 0) opts.onProgress(i + 1, records.length);
    });
    vault.audit.appendSync(vault.meta, [...audit, ...(opts.extra ?? [])], now);
    opts.onProgress?.(records.length, records.length);
    return out;
  });
}

/** Imports one file's contents: validates all, then inserts all or nothing. */
export async function importRecords(vault: Vault, text: string, format: ImportFormat, opts: { onProgress?: Progress } = {}): Promise<ImportedRecord[]> {
  vault.keys();
  let records: RecordData[];
  try {
    const rows = format === 'json' ? parseJsonRecords(text) : parseCsvRecords(text);
    records = validateRecords(rows, format === 'csv' ? 2 : 1);
  } catch (e) {
    await vault.record({ event: 'import', success: false, details: { format, error: (e as Error).message.slice(0, 200) } });
    throw e;
  }
  const sha256 = createHash('sha256').update(text).digest('hex');
  return insertRecords(vault, records, {
    onProgress: opts.onProgress,
    via: 'import',
    // The file's hash identifies what was imported; its name stays out of the log (names can say too much).
    extra: [{ event: 'import', details: { format, records: records.length, sha256 } }],
  });
}

export type { RecordInput };
