// Bulk import of records from JSON or CSV: all rows are validated first, then written in one
// transaction (all or nothing per file) through prepared statements — the hot path where
// Prisma's per-query overhead would dominate; the rows are the same the Prisma model reads.
//
// An import file may be hostile (threat model: a file handed to the analyst), so every size is
// bounded before the work it would cost is done, and errors name the row, the column and the
// field, never the value: they reach the audit log, the CLI's output and error dialogs.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { CustodyError } from '../../shared/errors.ts';
import { FIELD_TYPES, MAX_BODY, MAX_FIELDS, RecordInputSchema, type Field, type FieldType, type RecordData, type RecordInput } from '../../shared/records.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { target, type AuditInput } from '../audit/entry.ts';
import { commitDigest, COMMITMENT_DETAIL, SEALED_OPENING_DETAIL, sealOpening } from '../audit/commitment.ts';
import { uuidv7 } from '../util/ids.ts';
import { utcDay } from '../util/time.ts';
import type { Vault } from '../vault/vault.ts';
import { sealFields, wrapDek } from './codec.ts';
import { splitInput } from './recordStore.ts';
import { issuePath, issueProblem } from '../../shared/schemaIssues.ts';
import { SEAL_THREAD_FROM, SealPipeline, type SealFault } from './sealBatch.ts';
import { numberInserted } from './changes.ts';
import { BulkAuditWriter, bulkStart } from '../audit/bulkAppend.ts';
import type Database from 'better-sqlite3';

export type ImportFormat = 'json' | 'csv';
export type Progress = (done: number, total: number) => void;

/** The largest file an import reads (checked before reading it). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
/** Records per file: one import is one transaction with one audit entry per record. */
export const MAX_IMPORT_RECORDS = 100_000;
/** JSON nesting: {"records": [{"fields": [{"value": {"lat"}}]}]} is 6 deep. */
export const MAX_IMPORT_DEPTH = 8;
/** CSV columns: the 7 plain ones and one per typed field. */
export const MAX_CSV_COLUMNS = 7 + MAX_FIELDS;
/** Characters in one CSV cell: the longest a body may be, and some room for quoting. */
export const MAX_CSV_CELL = MAX_BODY + 1024;
// Field count, field, title, tag and body lengths and tag count are the record limits of
// shared/records.ts (MAX_FIELDS, MAX_FIELD_TEXT, MAX_TITLE, MAX_TAGS, ...), checked per row.

export interface ImportedRecord {
  id: string;
  data: RecordData;
}

const failed = (message: string) => new CustodyError('IMPORT_FAILED', message);
const MB = (n: number) => `${Math.round(n / (1024 * 1024))} MiB`;

/** Refuses a file too large to import, by its size alone. */
export function checkImportSize(bytes: number): void {
  if (bytes > MAX_IMPORT_BYTES) throw failed(`the file is larger than ${MB(MAX_IMPORT_BYTES)}, the most one import takes; split it into several files`);
}

/**
 * Reads an import file, at most one byte past the limit: a larger file is read no further, and
 * importRecords refuses it by its length (with the audit entry every failed import gets).
 */
export function readImportFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new CustodyError('NOT_FOUND', 'cannot read the import file');
  }
  try {
    const size = Math.min(fstatSync(fd).size, MAX_IMPORT_BYTES + 1);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** 1-based line and column of a character offset, for errors that point into the file. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * Refuses JSON nested deeper than MAX_IMPORT_DEPTH before parsing it: one linear pass with a
 * counter (no recursion, so 100k nested brackets cost nothing but the pass).
 */
function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_IMPORT_DEPTH) throw failed(`the file nests deeper than ${MAX_IMPORT_DEPTH} levels (at ${lineColumn(text, i)}); a record file never needs that`);
    } else if (c === 93 || c === 125) depth--;
  }
}

/** Reads records from a JSON array (or `{ "records": [...] }`) of record inputs. */
export function parseJsonRecords(text: string): unknown[] {
  checkJsonDepth(text);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text around the error: only the position is kept.
    const at = /position (\d+)/.exec((e as Error).message);
    throw failed(`the file is not valid JSON${at ? ` (at ${lineColumn(text, Number(at[1]))})` : ''}`);
  }
  const rows = Array.isArray(doc) ? doc : doc !== null && typeof doc === 'object' ? (doc as { records?: unknown }).records : undefined;
  if (!Array.isArray(rows)) throw failed('a JSON import is an array of records, or an object with a "records" array');
  checkCount(rows.length);
  return rows;
}

function checkCount(n: number): void {
  if (n > MAX_IMPORT_RECORDS) throw failed(`the file has more than ${MAX_IMPORT_RECORDS} records, the most one import takes; split it into several files`);
}

const PLAIN_COLUMNS = ['kind', 'title', 'body', 'case', 'tags', 'classification', 'captured_at'] as const;
type PlainColumn = (typeof PLAIN_COLUMNS)[number];

/** A CSV header cell: a plain column, or a typed field `field:<name>:<type>`. */
type Column = { plain: PlainColumn } | { field: string; type: FieldType };

/** Rows of a CSV file, with where each record key came from (to name columns in errors). */
export interface CsvRows {
  rows: unknown[];
  /** Per row: record path ("title", "fields[2]") -> 1-based column number. */
  columns: Map<string, number>[];
}

/** csv-parse's messages quote the cells around a problem: they are rewritten from its codes. */
function csvError(e: unknown): CustodyError {
  const err = e as { code?: string; records?: number; index?: number };
  const row = typeof err.records === 'number' ? `row ${err.records + 1}` : 'a row';
  const column = typeof err.index === 'number' ? `, column ${err.index + 1}` : '';
  switch (err.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return failed(`${row} has a different number of cells than the header`);
    case 'CSV_MAX_RECORD_SIZE':
      return failed(`${row}${column}: a cell is longer than ${MAX_CSV_CELL} characters`);
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return failed(`${row}${column}: a quoted cell is malformed (text after its closing quote)`);
    case 'CSV_QUOTE_NOT_CLOSED':
      return failed(`${row}${column}: a quoted cell is never closed`);
    default:
      return failed(`the file is not valid CSV (${row})`);
  }
}

function parseHeader(header: string[]): Column[] {
  if (header.length > MAX_CSV_COLUMNS) throw failed(`the header has ${header.length} columns; at most ${MAX_CSV_COLUMNS} (the plain ones and ${MAX_FIELDS} fields) are allowed`);
  const seen = new Set<string>();
  return header.map((name, i) => {
    // Column names are named by position: a header is part of the file, and may be anything.
    if (seen.has(name)) throw failed(`column ${i + 1} of the header repeats an earlier column`);
    seen.add(name);
    if ((PLAIN_COLUMNS as readonly string[]).includes(name)) return { plain: name as PlainColumn };
    const m = /^field:([^:]+):([a-z]+)$/.exec(name);
    if (!m || !FIELD_TYPES.includes(m[2] as FieldType))
      throw failed(`column ${i + 1} of the header is not a known column (expected ${PLAIN_COLUMNS.join(', ')} or field:<name>:<${FIELD_TYPES.join('|')}>)`);
    return { field: m[1]!, type: m[2] as FieldType };
  });
}

/**
 * CSV columns (header row, any order): kind, title, body, case, tags (separated by ";"),
 * classification, captured_at (ISO 8601), and one `field:<name>:<type>` column per typed
 * observation field (type text | number | date | location; a location is "lat,lon[,label]").
 * Empty cells are omitted; unknown columns are an error, so a typo is not silently dropped.
 * Rows are numbered as a spreadsheet shows them: the header is row 1.
 */
export function parseCsvRows(text: string): CsvRows {
  let table: string[][];
  try {
    // `to` stops after one record more than allowed: a file of a million rows costs little.
    table = parseCsv(text, { skip_empty_lines: true, trim: true, bom: true, max_record_size: MAX_CSV_CELL, to: MAX_IMPORT_RECORDS + 2 });
  } catch (e) {
    throw csvError(e);
  }
  if (table.length === 0) return { rows: [], columns: [] };
  const header = parseHeader(table[0]!);
  checkCount(table.length - 1);
  const rows: unknown[] = [];
  const columns: Map<string, number>[] = [];
  for (let r = 1; r < table.length; r++) {
    const cells = table[r]!;
    const out: Record<string, unknown> = { kind: 'note' };
    const fields: Field[] = [];
    const where = new Map<string, number>();
    cells.forEach((value, c) => {
      if (value === '') return;
      const col = header[c]!;
      if ('plain' in col) {
        const key = col.plain === 'captured_at' ? 'capturedAt' : col.plain;
        where.set(key, c + 1);
        if (col.plain === 'tags') out.tags = value.split(';').map((t) => t.trim()).filter(Boolean);
        else out[key] = value;
        return;
      }
      where.set(`fields[${fields.length + 1}]`, c + 1);
      if (!where.has('fields')) where.set('fields', c + 1);
      fields.push(csvField(col.field, col.type, value, r + 1, c + 1));
    });
    if (fields.length) out.fields = fields;
    rows.push(out);
    columns.push(where);
  }
  return { rows, columns };
}

/** The rows of a CSV file as record inputs (see parseCsvRows). */
export function parseCsvRecords(text: string): unknown[] {
  return parseCsvRows(text).rows;
}

function csvField(name: string, type: FieldType, value: string, row: number, column: number): Field {
  switch (type) {
    case 'number': {
      const n = Number(value);
      if (!Number.isFinite(n)) throw failed(`row ${row}, column ${column}: a number field holds something that is not a number`);
      return { name, type, value: n };
    }
    case 'location': {
      const [lat, lon, ...label] = value.split(',');
      const loc = { lat: Number(lat), lon: Number(lon), ...(label.length ? { label: label.join(',').trim() } : {}) };
      if (!Number.isFinite(loc.lat) || !Number.isFinite(loc.lon)) throw failed(`row ${row}, column ${column}: a location field must be "lat,lon[,label]"`);
      return { name, type, value: loc };
    }
    default:
      return { name, type, value } as Field;
  }
}

/**
 * Validates every row; the first bad row fails the whole file. Errors name the record (JSON:
 * its position in the array) or the row and column (CSV), and the field, never the value.
 */
export function validateRecords(rows: unknown[], csv?: CsvRows): RecordData[] {
  return rows.map((row, i) => {
    const p = RecordInputSchema.safeParse(row);
    if (p.success) return p.data;
    const issue = p.error.issues[0]!;
    const path = issuePath(issue.path);
    let where = csv ? `row ${i + 2}` : `record ${i + 1}`;
    if (csv) {
      // fields[n].value and friends live in the column of fields[n].
      const key = /^(fields\[\d+\]|[a-zA-Z]+)/.exec(path)?.[1];
      const column = key ? csv.columns[i]?.get(key) : undefined;
      if (column !== undefined) where += `, column ${column}`;
    }
    throw failed(`${where}, ${path ? `field ${path}` : 'the record'}: ${issueProblem(issue)}; nothing was imported`);
  });
}

/**
 * Encrypts and inserts records with their audit entries in one transaction.
 * `extra` audit entries (e.g. the import itself) join the same transaction.
 */
export async function insertRecords(vault: Vault, records: readonly RecordData[], opts: { onProgress?: Progress; extra?: AuditInput[]; via?: string; sealThreadFrom?: number; sealChunk?: number; fault?: SealFault } = {}): Promise<ImportedRecord[]> {
  const keys = vault.keys();
  const { vaultId } = vault;
  const insert = vault.db.sql.prepare(
    'INSERT INTO record (id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?)',
  );
  const every = Math.max(1, Math.floor(records.length / 100));
  if (records.length >= (opts.sealThreadFrom ?? SEAL_THREAD_FROM)) return insertSealed(vault, records, insert, every, opts);
  return vault.db.writeSync(() => {
    const now = new Date();
    const ms = now.getTime();
    const out: ImportedRecord[] = [];
    const audit: AuditInput[] = [];
    numberInserted(vault.db.sql, () => records.forEach((data, i) => {
      const id = uuidv7(ms);
      const capturedAt = data.capturedAt ? Date.parse(data.capturedAt) : ms;
      const day = utcDay(new Date(capturedAt));
      const dek = randomKey();
      const { summary, content } = splitInput(data);
      const sealed = sealFields(dek, vaultId, id, 1, { kind: data.kind, capturedAt }, summary, content);
      insert.run(id, data.kind, capturedAt, day, ms, ms, wrapDek(keys, vaultId, id, day, dek), sealed.summary, sealed.content);
      wipe(dek);
      audit.push({ event: 'record.created', target: target.record(id), details: { kind: data.kind, ...(opts.via ? { via: opts.via } : {}) } });
      out.push({ id, data });
      if (opts.onProgress && (i + 1) % every === 0) opts.onProgress(i + 1, records.length);
    }));
    vault.audit.appendSync(vault.meta, [...audit, ...(opts.extra ?? [])], now);
    opts.onProgress?.(records.length, records.length);
    return out;
  });
}

/**
 * A large batch on two cores (sealBatch.ts): a helper thread seals the records chunk by chunk,
 * while this thread computes their audit entries and its one transaction writes the chunks
 * already done (one record.created entry per record, as above).
 */
async function insertSealed(vault: Vault, records: readonly RecordData[], insert: Database.Statement, every: number, opts: { onProgress?: Progress; extra?: AuditInput[]; via?: string; sealThreadFrom?: number; sealChunk?: number; fault?: SealFault }): Promise<ImportedRecord[]> {
  const now = new Date();
  const ms = now.getTime();
  const n = records.length;
  const keys = vault.keys();
  const pipeline = new SealPipeline(records, vault.vaultId, ms, (day) => keys.epochKey(day), { details: opts.via ? { via: opts.via } : {}, chunkSize: opts.sealChunk, fault: opts.fault });
  try {
    return await vault.db.writeSync(() => {
      const writer = new BulkAuditWriter(vault.db.sql);
      const s = bulkStart(vault.audit, vault.db.sql, vault.meta, now);
      pipeline.start(s);
      const out: ImportedRecord[] = new Array(n);
      numberInserted(vault.db.sql, () => {
        for (let done = 0; done < n; ) {
          const c = pipeline.next();
          const bytes = c.bytes;
          const at = c.at;
          const { kinds, capturedAt, days } = c.columns;
          const { json, leaves, nodes, nodeHashes } = c.audit;
          const leafBytes = new Uint8Array(leaves.buffer, leaves.byteOffset, leaves.length);
          for (let j = 0; j < c.ids.length; j++) {
            const i = done + j;
            const id = c.ids[j]!;
            const k = j * 3;
            insert.run(id, kinds[j], capturedAt[j], days[j], ms, ms, new Uint8Array(bytes, at[k]!, at[k + 1]! - at[k]!), new Uint8Array(bytes, at[k + 1]!, at[k + 2]! - at[k + 1]!), new Uint8Array(bytes, at[k + 2]!, at[k + 3]! - at[k + 2]!));
            writer.entry(s.seq + i, ms, 'record.created', s.actor, target.record(id), json[j]!, leafBytes.subarray(j * 32, j * 32 + 32));
            out[i] = { id, data: records[i]! };
          }
          for (let x = 0; x < nodes.length; x += 2) writer.node(nodes[x]!, nodes[x + 1]!, nodeHashes.subarray(x * 16, x * 16 + 32));
          const before = done;
          done += c.ids.length;
          if (opts.onProgress && Math.floor(done / every) > Math.floor(before / every)) opts.onProgress(done, n);
        }
      });
      if (opts.extra?.length) vault.audit.appendSync(vault.meta, opts.extra, now);
      opts.onProgress?.(n, n);
      return out;
    }, { largeCommit: true });
  } finally {
    pipeline.close();
  }
}

/**
 * The file's SHA-256 as a hiding commitment (commitment.ts), with its opening sealed in the
 * entry: a report that includes the entry reveals the opening.
 */
function fileCommitment(vault: Vault, importId: string, input: string | Uint8Array): Record<string, string> {
  const digest = createHash('sha256').update(input).digest();
  const key = randomKey();
  try {
    return { [COMMITMENT_DETAIL]: commitDigest(key, digest), [SEALED_OPENING_DETAIL]: sealOpening(vault.keys().vaultKey, vault.vaultId, importId, key, digest) };
  } finally {
    wipe(key);
  }
}

/** Imports one file's contents: checks its size, validates all, then inserts all or nothing. */
export async function importRecords(vault: Vault, input: string | Uint8Array, format: ImportFormat, opts: { onProgress?: Progress } = {}): Promise<ImportedRecord[]> {
  vault.keys();
  const importId = uuidv7();
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  let records: RecordData[];
  try {
    checkImportSize(size);
    let text = input;
    if (typeof text !== 'string') {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(text);
      } catch {
        throw failed('the file is not UTF-8 text');
      }
    }
    if (format === 'json') records = validateRecords(parseJsonRecords(text));
    else {
      const csv = parseCsvRows(text);
      records = validateRecords(csv.rows, csv);
    }
  } catch (e) {
    // The message names places, never values (see above): it may go in the log as it is.
    const error = e instanceof CustodyError ? e.message : 'the file could not be read';
    await vault.record({ event: 'import', target: target.import(importId), success: false, details: { format, error: error.slice(0, 300), ...(size <= MAX_IMPORT_BYTES ? fileCommitment(vault, importId, input) : {}) } });
    throw e instanceof CustodyError ? e : failed(error);
  }
  return insertRecords(vault, records, {
    onProgress: opts.onProgress,
    via: 'import',
    // The file's hash, as a commitment, identifies what was imported; its name stays out of the log.
    extra: [{ event: 'import', target: target.import(importId), details: { format, records: records.length, ...fileCommitment(vault, importId, input) } }],
  });
}

export type { RecordInput };
