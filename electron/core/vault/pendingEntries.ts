// Audit entries owed to the log. Lock wipes the keys even when its own entry cannot be written
// (a full disk, the database locked by another process, a damaged tree); the fact that the vault
// was locked then is kept here, outside the database, and the next unlock appends it to the log
// (as `vault.locked` with recordedLate), just as entries written while locked are signed at the
// next unlock. The same holds for a failed unlock whose entry could not be written, and for a
// search still owed when the lock's transaction failed (its entry: counts and filter names).
//
// Where it is kept, from best to worst, since a full disk may refuse some of them:
//   1. audit-pending.json in the vault folder, written atomically (a few hundred bytes);
//   2. the same file created empty (no data block needed: an inode and a directory entry),
//      which says "an entry is owed, details unknown";
//   3. this process's memory (an unlock in the same session still appends it).
// Someone who can write the folder can delete the file and so suppress a late entry; nothing
// in the log itself is affected (the threat model in SECURITY.md says so).
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fsyncDir, writeFileAtomic } from '../util/atomicFile.ts';
import { SEARCH_FILTERS } from '../audit/searchAudit.ts';

export const PENDING_FILE = 'audit-pending.json';
const MAX_BYTES = 64 * 1024;
const MAX_ENTRIES = 100;

/** When it happened (ISO 8601), null if the marker could not say. */
const at = z.iso.datetime().nullable();
/** Why the entry could not be written then: an error code, never a message. */
const cause = z.string().regex(/^[A-Z][A-Z0-9_]{0,39}$/);
const EntrySchema = z.union([
  z.object({ event: z.enum(['vault.locked', 'vault.unlock_failed']), at, cause }).strict(),
  // A search made before a lock whose transaction failed (searchAudit.ts): its entry as it
  // would have been, counts and filter names only; `at` is when the lock failed.
  z
    .object({
      event: z.literal('search'),
      at,
      cause,
      details: z
        .object({
          terms: z.number().int().min(0).max(1000),
          filters: z.array(z.enum(SEARCH_FILTERS)).max(SEARCH_FILTERS.length),
          deleted: z.enum(['exclude', 'include', 'only']),
          results: z.number().int().min(0),
        })
        .strict(),
    })
    .strict(),
]);
export type PendingEntry = z.infer<typeof EntrySchema>;
export type PendingSearch = Extract<PendingEntry, { event: 'search' }>;

const UNKNOWN: PendingEntry = { event: 'vault.locked', at: null, cause: 'UNKNOWN' };

/** The code of an error (SQLITE_FULL, SQLITE_BUSY, TAMPERED, ...), never its message. */
export function causeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'ERROR';
}

export class PendingEntries {
  /** Entries the file could not take (kept for this process). */
  #unsaved: PendingEntry[] = [];
  readonly #file: string;

  constructor(private readonly dir: string) {
    this.#file = join(dir, PENDING_FILE);
  }

  /** Keeps an entry owed to the log, as durably as the disk allows; never throws. */
  add(entry: PendingEntry): 'file' | 'marker' | 'memory' {
    try {
      const all = [...this.list(), entry].slice(-MAX_ENTRIES);
      writeFileAtomic(this.#file, JSON.stringify(all) + '\n');
      this.#unsaved = [];
      return 'file';
    } catch {
      this.#unsaved.push(entry);
    }
    try {
      if (!existsSync(this.#file)) {
        closeSync(openSync(this.#file, 'wx', 0o600));
        fsyncDir(this.dir);
      }
      return 'marker';
    } catch {
      return 'memory';
    }
  }

  /** Everything owed: the file's entries and this process's. */
  list(): PendingEntry[] {
    const saved = this.#readFile();
    // An empty marker stands for the entries this process could not save, when it has them.
    const fromFile = this.#unsaved.length > 0 ? saved.filter((e) => e !== UNKNOWN) : saved;
    return [...fromFile, ...this.#unsaved];
  }

  /** After the entries were committed to the log. */
  clear(): void {
    this.#unsaved = [];
    try {
      rmSync(this.#file, { force: true });
      fsyncDir(this.dir);
    } catch {
      // Left behind, it would add the same late entry again at the next unlock: harmless.
    }
  }

  #readFile(): PendingEntry[] {
    let text: string;
    try {
      if (!existsSync(this.#file)) return [];
      // A folder writer could plant a huge file: read a bounded amount, trust nothing in it.
      if (statSync(this.#file).size > MAX_BYTES) return [UNKNOWN];
      text = readFileSync(this.#file, 'utf8');
    } catch {
      return [UNKNOWN];
    }
    if (text.trim() === '') return [UNKNOWN];
    try {
      const parsed = z.array(EntrySchema).max(MAX_ENTRIES).safeParse(JSON.parse(text));
      return parsed.success && parsed.data.length > 0 ? parsed.data : [UNKNOWN];
    } catch {
      return [UNKNOWN];
    }
  }
}
