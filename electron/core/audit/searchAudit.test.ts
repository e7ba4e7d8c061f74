// Search audit (issue 14): one entry per search the user made, decided in core. A real vault,
// searches through Custody.search as the renderer sends them, and a fake settle clock: nothing
// here depends on how fast the machine is.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { SEARCH_MAX_HOLD_MS, SEARCH_SETTLE_MS, type SettleClock } from './searchAudit.ts';
import type { SearchQuery } from '../../shared/records.ts';

class FakeClock implements SettleClock {
  t = Date.parse('2026-06-01T12:00:00Z');
  #timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    this.#timers.set(++this.#id, { at: this.t + ms, fn });
    return this.#id;
  };
  clearTimeout = (h: unknown) => void this.#timers.delete(h as number);
  get pending() {
    return this.#timers.size;
  }
  /** Moves time on, firing the timers that fall due, in order. */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.#timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

let tv: TempVault;
let c: Custody;
let clock: FakeClock;
beforeEach(async () => {
  tv = await tempVault({ unlock: false });
  await tv.custody.close();
  clock = new FakeClock();
  c = await Custody.open(tv.dir, { searchClock: clock });
  await c.unlock(PASSWORD, { buildIndex: false });
  await c.createRecord({ kind: 'note', title: 'Gulls at the harbour', body: 'three gulls' });
  await c.createRecord({ kind: 'note', title: 'Boats', body: 'two boats' });
});
afterEach(async () => {
  await c.close().catch(() => undefined);
  await tv.cleanup();
});

/** The renderer's list query: first page, 500 rows. */
const query = (text: string, over: Partial<SearchQuery> = {}): SearchQuery => ({ text, deleted: 'exclude', limit: 500, offset: 0, ...over });
/** The log as stored (read straight from it: Custody.auditQuery would write a pending search first). */
const stored = async () => (await c.vault.audit.query({ order: 'asc', limit: 10_000 })).map((r) => ({ event: r.event, details: r.entry?.details }));
const searches = async () => (await stored()).filter((e) => e.event === 'search');
/** Lets the settle window pass and waits for the write it starts. */
const settle = async () => {
  clock.advance(SEARCH_SETTLE_MS);
  await c.searchAudit.idle();
};

describe('search audit', () => {
  test('typing "g", "gu", "gul", "gull" quickly writes one entry, for the settled query', async () => {
    for (const text of ['g', 'gu', 'gul', 'gull']) {
      await c.search(query(text));
      clock.advance(150);
    }
    expect(await searches()).toEqual([]);
    await settle();
    expect(await searches()).toEqual([{ event: 'search', details: { terms: 1, filters: [], deleted: 'exclude', results: 1 } }]);
    // Nothing else is waiting.
    expect(clock.pending).toBe(0);
  });

  test('saving a record and refreshing the list writes no search entry; the list scrolled further neither', async () => {
    await c.search(query(''));
    await settle();
    expect(await searches()).toHaveLength(1);
    // What the renderer does after a save: create, then run the same query again.
    await c.createRecord({ kind: 'note', title: 'Saved from the form' });
    await c.search(query(''));
    await c.search(query('', { offset: 500 }));
    await settle();
    const log = await stored();
    expect(log.filter((e) => e.event === 'search')).toHaveLength(1);
    expect(log.at(-1)!.event).toBe('record.created');
    // An edit and its refresh: the same.
    const id = (await c.search(query('gull'))).hits[0]!.id;
    await settle();
    await c.updateRecord(id, 1, { title: 'Gulls at the harbour (edited)' });
    await c.search(query('gull'));
    await settle();
    expect((await searches()).length).toBe(2);
  });

  test('two different settled searches write two entries; filters and the trash count as different', async () => {
    await c.search(query('gull'));
    await settle();
    await c.search(query('boats'));
    await settle();
    await c.search(query('boats', { tag: 'x' }));
    await settle();
    await c.search(query('boats', { tag: 'x', deleted: 'only' }));
    await settle();
    // Whitespace alone does not make another query.
    await c.search(query('  boats ', { tag: 'x', deleted: 'only' }));
    await settle();
    expect((await searches()).map((e) => e.details)).toEqual([
      { terms: 1, filters: [], deleted: 'exclude', results: 1 },
      { terms: 1, filters: [], deleted: 'exclude', results: 1 },
      { terms: 1, filters: ['tag'], deleted: 'exclude', results: 0 },
      { terms: 1, filters: ['tag'], deleted: 'only', results: 0 },
    ]);
  });

  test('a pending search is written before any other entry, in the order things happened', async () => {
    await c.search(query('gull'));
    await c.createRecord({ kind: 'note', title: 'after the search' });
    const log = await stored();
    expect(log.slice(-2).map((e) => e.event)).toEqual(['search', 'record.created']);
    await settle();
    expect(await searches()).toHaveLength(1);
  });

  test('lock with a pending search: it is written before vault.locked', async () => {
    await c.search(query('gu'));
    await c.search(query('gull'));
    await c.lock();
    const log = await stored();
    expect(log.slice(-2)).toEqual([
      { event: 'search', details: { terms: 1, filters: [], deleted: 'exclude', results: 1 } },
      { event: 'vault.locked', details: {} },
    ]);
    expect(clock.pending).toBe(0);
    // A new session compares with nothing from the last one: the same query is a new search.
    await c.unlock(PASSWORD, { buildIndex: false });
    await c.search(query('gull'));
    await settle();
    expect(await searches()).toHaveLength(2);
  });

  test('close with a pending search writes it too', async () => {
    await c.search(query('boats'));
    await c.close();
    c = await Custody.open(tv.dir);
    const log = (await c.vault.audit.query({ order: 'asc', limit: 10_000 })).map((r) => r.event);
    expect(log.slice(-2)).toEqual(['search', 'vault.locked']);
  });

  test('the entry holds no search text, no filter value and no hash of the query', async () => {
    await c.search(query('harbour gulls', { case: 'Operation Nightfall', tag: 'sensitive-tag' }));
    await settle();
    const row = (await c.vault.audit.query({ event: 'search' }))[0]!;
    expect(row.entry!.details).toEqual({ terms: 2, filters: ['case', 'tag'], deleted: 'exclude', results: 0 });
    const text = JSON.stringify(row);
    for (const s of ['harbour', 'gulls', 'Nightfall', 'sensitive']) expect(text).not.toContain(s);
  });

  test('a never-ending stream of searches still writes one entry at least every SEARCH_MAX_HOLD_MS', async () => {
    // Each search comes just inside the settle window of the one before.
    const step = SEARCH_SETTLE_MS - 100;
    const start = clock.t;
    let written = 0;
    let lastWrite = start;
    for (let i = 0; clock.t - start < 3 * SEARCH_MAX_HOLD_MS; i++) {
      await c.search(query(`gull${i}`));
      clock.advance(step);
      await c.searchAudit.idle();
      const n = (await searches()).length;
      if (n > written) [written, lastWrite] = [n, clock.t];
      expect(clock.t - lastWrite).toBeLessThanOrEqual(SEARCH_MAX_HOLD_MS + 2 * step);
    }
    expect(written).toBeGreaterThanOrEqual(2);
    expect(written).toBeLessThan(Math.ceil((3 * SEARCH_MAX_HOLD_MS) / step) / 2);
  });

  test('a rolled-back transaction hands the search back: it is written by the next one', async () => {
    await c.search(query('gull'));
    // Another change appends (taking the pending search) and then fails: all of it rolls back.
    await expect(
      c.vault.db.writeSync(() => {
        c.vault.audit.appendSync(c.vault.meta, [{ event: 'record.viewed', target: 'record:x' }]);
        throw new Error('the change failed after logging');
      }),
    ).rejects.toThrow('the change failed');
    expect(await searches()).toEqual([]);
    await settle();
    expect(await searches()).toHaveLength(1);
    expect((await stored()).some((e) => e.event === 'record.viewed')).toBe(false);
  });

  test('fails closed: while the log refuses entries, the next search fails instead of going unaudited', async () => {
    await c.search(query('gull'));
    c.vault.db.sql.pragma('busy_timeout = 50');
    const other = new Database(join(tv.dir, 'custody.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await settle();
      expect(await searches()).toEqual([]);
      await expect(c.search(query('boats'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // Both are written once the log takes entries again.
    await c.search(query('boats'));
    expect((await searches()).length).toBe(1);
    await settle();
    expect((await searches()).length).toBe(2);
  });

  test('lock fails closed with a pending search it cannot write: the keys are wiped all the same', async () => {
    await c.search(query('gull'));
    const keyring = c.vault.keys();
    const vk = keyring.vaultKey;
    c.vault.db.sql.pragma('busy_timeout = 50');
    const other = new Database(join(tv.dir, 'custody.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(c.lock()).resolves.toBeUndefined();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(c.vault.unlocked).toBe(false);
    expect(vk.every((b) => b === 0)).toBe(true);
    expect(clock.pending).toBe(0);
    await expect(c.search(query('gull'))).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('a search pending at a lock whose transaction fails is not lost: kept with the lock entry, written at the next unlock, even after a restart', async () => {
    await c.search(query('gull'));
    const size = c.vault.audit.size();
    c.vault.db.sql.pragma('busy_timeout = 50');
    const other = new Database(join(tv.dir, 'custody.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(c.lock()).resolves.toBeUndefined();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(c.vault.audit.size()).toBe(size);
    // The process ends; another opens the vault and unlocks it.
    await c.close();
    c = await Custody.open(tv.dir, { searchClock: clock });
    await c.unlock(PASSWORD, { buildIndex: false });
    const late = (await c.vault.audit.query({ order: 'asc', limit: 10_000 })).slice(size).map((r) => ({ event: r.event, details: r.entry?.details }));
    expect(late.map((e) => e.event)).toEqual(['search', 'vault.locked', 'vault.unlocked']);
    expect(late[0]!.details).toEqual({ terms: 1, filters: [], deleted: 'exclude', results: 1, recordedLate: true, at: expect.any(String), cause: 'SQLITE_BUSY' });
    // Written once: the next session owes nothing more.
    await c.lock();
    await c.unlock(PASSWORD, { buildIndex: false });
    expect((await searches()).length).toBe(1);
  });

  test('audit statistics count a search still pending: it is written first', async () => {
    await c.search(query('gull'));
    expect((await c.auditStats()).byEvent.search).toBe(1);
    expect(await searches()).toHaveLength(1);
  });
});
