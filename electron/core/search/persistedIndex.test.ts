// The persisted search index (indexKeeper.ts, indexFile.ts): what a reopened vault loads and
// catches up must answer every query as a brute-force scan of the records does, whoever made the
// changes (this process, another connection, the CLI in another process); and an index file
// that is damaged, cut short, of another vault, of another format, or older than the database
// is detected and rebuilt, never trusted.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Custody } from '../custody.ts';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';
import type { RecordSummary, SearchQuery } from '../../shared/records.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { DELTA_FILE, INDEX_FILE, indexKey, readBase, writeBase } from './indexFile.ts';
import { InvertedIndex } from './invertedIndex.ts';
import { tokenize } from './tokenize.ts';

const WORDS = 'amber basalt cobalt delta ember fjord granite harbor indigo jasper kelp lumen marble nickel onyx pewter quartz'.split(' ');
const env = { CUSTODY_PASSWORD: PASSWORD };

/** The built CLI (rebuilt by the vitest global setup): another process on the same vault. */
function cli(vault: string, args: string[], extra: Record<string, string>) {
  const r = spawnSync(process.execPath, [resolve('out/cli/custody.mjs'), '--vault', vault, ...args], { encoding: 'utf8', env: { ...process.env, ...extra }, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

/** Every record as the database holds it, decrypted without audit entries. */
function truth(c: Custody) {
  const out: { id: string; deleted: boolean; tokens: Set<string>; case: string; tags: string[]; classification: string; summary: RecordSummary }[] = [];
  for (let after = ''; ; ) {
    const rows = c.records.scan(after, 500);
    for (const row of rows) {
      const d = c.records.decrypt(row);
      const text = [d.summary.title, d.content.body, ...d.content.fields.map((f) => `${f.name} ${String(f.value)}`), ...d.summary.tags, d.summary.case].join('\n');
      out.push({ id: row.id, deleted: d.summary.deletedAt !== null, tokens: new Set(tokenize(text)), case: d.summary.case, tags: d.summary.tags, classification: d.summary.classification, summary: d.summary });
      after = row.id;
    }
    if (rows.length < 500) return out;
  }
}

/** The queries to compare: each word, each 3-letter prefix, word pairs, a word in a case, the trash. */
function queries(): SearchQuery[] {
  const qs: SearchQuery[] = [];
  for (const w of WORDS) qs.push({ text: w, limit: 100_000 }, { text: w.slice(0, 3), limit: 100_000 }, { text: w, deleted: 'only', limit: 100_000 });
  for (let i = 0; i < WORDS.length; i += 2) qs.push({ text: `${WORDS[i]} ${WORDS[(i + 5) % WORDS.length]}`, limit: 100_000 });
  qs.push({ text: WORDS[3]!, case: 'Case 1', limit: 100_000 }, { text: '', limit: 100_000 }, { text: '', deleted: 'include', limit: 100_000 });
  // Filters answered from the persisted columns: tags, cases in any capitalisation, classification.
  for (const w of WORDS.slice(0, 6)) qs.push({ text: '', tag: w, limit: 100_000 }, { text: WORDS[1]!, tag: w, deleted: 'include', limit: 100_000 });
  qs.push({ text: '', case: 'case 2', classification: 'restricted', limit: 100_000 }, { text: '', tag: 'no such tag', limit: 100_000 }, { text: '', case: 'no such case', limit: 100_000 });
  return qs;
}

function bruteForce(all: ReturnType<typeof truth>, q: SearchQuery): string[] {
  const words = [...new Set(tokenize(q.text ?? ''))];
  return all
    .filter((r) => (q.deleted === 'include' ? true : q.deleted === 'only' ? r.deleted : !r.deleted))
    .filter((r) => q.case === undefined || r.case.toLowerCase() === q.case.toLowerCase())
    .filter((r) => q.tag === undefined || r.tags.includes(q.tag))
    .filter((r) => q.classification === undefined || r.classification === q.classification)
    .filter((r) =>
      words.every((w, i) => r.tokens.has(w) || (i === words.length - 1 && w.length >= 3 && [...r.tokens].some((t) => t.startsWith(w)))),
    )
    .map((r) => r.id)
    .sort();
}

/** Every query gives exactly the records a scan finds (a query that finds nothing may try typos: skipped). */
function expectAgrees(c: Custody): void {
  const all = truth(c);
  expect(c.index.size).toBe(all.length);
  for (const q of queries()) {
    const want = bruteForce(all, q);
    const got = c.index.search(q);
    if (want.length === 0 && (q.text ?? '').trim()) continue;
    expect(got.hits.map((h) => h.id).sort(), JSON.stringify(q)).toEqual(want);
    expect(got.total).toBe(want.length);
  }
  // Every summary as the records hold it, listed in the database's order (newest capture first).
  const listed = c.index.search({ text: '', deleted: 'include', limit: 100_000 }).hits.map(({ score: _, ...s }) => s);
  const inOrder = c.records.listPage({ deleted: 'include', limit: 100_000, offset: 0 }).rows.map((r) => r.id);
  expect(listed.map((s) => s.id)).toEqual(inOrder);
  const byId = new Map(all.map((r) => [r.id, r.summary]));
  for (const s of listed) expect(s).toEqual(byId.get(s.id));
  // The filter pickers: cases and tags of records not in the trash.
  const live = all.filter((r) => !r.deleted);
  expect(c.index.facets()).toEqual({ cases: [...new Set(live.map((r) => r.case).filter(Boolean))].sort(), tags: [...new Set(live.flatMap((r) => r.tags))].sort() });
}

function randomRecord(rand: () => number, i: number) {
  const pick = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  // Cases in two capitalisations (one case to a filter), some without a case, up to two tags, a
  // classification and a title outside ASCII: what the persisted columns and summaries hold.
  const n = Math.floor(rand() * 4);
  return {
    kind: 'note' as const,
    title: `${pick()} ${pick()} ${i}${i % 5 === 0 ? ' Café ✓' : ''}`,
    body: Array.from({ length: 12 }, pick).join(' '),
    case: n === 3 ? '' : `${i % 2 ? 'Case' : 'case'} ${n}`,
    tags: [...new Set([pick(), ...(i % 3 === 0 ? [pick()] : [])])],
    classification: (['public', 'internal', 'restricted'] as const)[i % 3],
  };
}

async function reopen(tv: TempVault): Promise<Custody> {
  const c = await tv.reopen();
  await c.unlock(PASSWORD, { buildIndex: false });
  await c.buildIndex();
  return c;
}

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

describe('persisted search index', () => {
  test('built, persisted, changed here, by another connection and by the CLI, reopened: every query agrees with a brute-force scan', { timeout: 300_000 }, async () => {
    const rand = rng(42);
    let c = tv.custody;
    for (let i = 0; i < 40; i++) await c.createRecord(randomRecord(rand, i));
    await c.buildIndex();
    expect(c.indexKeeper.origin.source).toBe('build');
    expectAgrees(c);

    // Another connection to the same database (as another process would have).
    const other = await Custody.open(tv.dir);
    await other.unlock(PASSWORD, { buildIndex: false });
    let n = 40;
    for (let round = 0; round < 3; round++) {
      for (let step = 0; step < 25; step++) {
        const writer = rand() < 0.5 ? c : other;
        const live = (await writer.list({ deleted: 'include', limit: 1000 })).filter(() => true);
        const r = live[Math.floor(rand() * live.length)];
        const op = Math.floor(rand() * 6);
        if (!r || op === 0) await writer.createRecord(randomRecord(rand, n++));
        else if (op === 1 && !r.deletedAt) await writer.updateRecord(r.id, r.version, { body: `${WORDS[Math.floor(rand() * WORDS.length)]} edited ${n++}` });
        else if (op === 2 && !r.deletedAt) await writer.updateRecord(r.id, r.version, { capturedAt: '2021-05-05T05:05:05Z' });
        else if (op === 3 && !r.deletedAt) await writer.deleteRecord(r.id);
        else if (op === 4 && r.deletedAt) await writer.restoreRecord(r.id);
        else if (op === 5 && r.deletedAt) await writer.purgeRecord(r.id);
      }
      // The other connection's commits are seen at the next look (the watch timer's job).
      c.indexKeeper.poll();
      expectAgrees(c);
      c = await reopen(tv);
      expect(c.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
      expectAgrees(c);
    }
    await other.close();

    // Another process: the CLI adds, edits, deletes and purges while this one is closed and open.
    const added = cli(tv.dir, ['add', '--kind', 'note', '--title', 'from the cli', '--body', 'zircon zircon amber'], env);
    expect(added.status, added.stderr).toBe(0);
    const id = added.stdout.trim();
    const victim = (await c.list({ limit: 2 })).find((r) => r.id !== id)!;
    for (const args of [['edit', id, '--body', 'zircon obsidian'], ['rm', victim.id], ['purge', victim.id, '--yes']]) {
      const r = cli(tv.dir, args, env);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(c.indexKeeper.poll()).toBe(2);
    expectAgrees(c);
    expect(c.index.search({ text: 'obsidian' }).hits.map((h) => h.id)).toEqual([id]);
    // The CLI's own search loads the persisted index and catches up too.
    const found = cli(tv.dir, ['--json', 'search', 'obsidian'], env);
    expect(found.status, found.stderr).toBe(0);
    expect(found.stdout).toContain(id);
    c = await reopen(tv);
    expect(c.indexKeeper.origin.source).toBe('file');
    expectAgrees(c);
  });

  test('a tampered record stays out of a loaded index too, and is reported', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'kept', body: 'amber' });
    await c.buildIndex();
    const { default: Database } = await import('better-sqlite3');
    const d = new Database(join(tv.dir, 'custody.db'));
    const { content } = d.prepare('SELECT content FROM record WHERE id = ?').get(r.id) as { content: Buffer };
    content[content.length - 1]! ^= 0xff;
    d.prepare('UPDATE record SET content = ? WHERE id = ?').run(content, r.id);
    d.close();
    const again = await reopen(tv);
    expect(again.indexKeeper.origin.source).toBe('file');
    expect(again.indexLeftOut()).toEqual([r.id]);
    expect(again.index.search({ text: 'amber' }).total).toBe(0);
  });
});

describe('an index file that cannot be trusted is rebuilt', () => {
  async function persisted(): Promise<{ c: Custody; file: string }> {
    const rand = rng(7);
    for (let i = 0; i < 20; i++) await tv.custody.createRecord(randomRecord(rand, i));
    await tv.custody.buildIndex();
    return { c: tv.custody, file: join(tv.dir, INDEX_FILE) };
  }

  async function expectRebuilt(reason: string): Promise<void> {
    const c = await reopen(tv);
    expect(c.indexKeeper.origin).toMatchObject({ source: 'build', rejected: reason });
    expectAgrees(c);
    // The rebuilt index was written again, and loads at the next unlock.
    const next = await reopen(tv);
    expect(next.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
    expectAgrees(next);
  }

  test('a changed byte', async () => {
    const { file } = await persisted();
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(file, bytes);
    await expectRebuilt('damaged');
  });

  test('a file cut short', async () => {
    const { file } = await persisted();
    truncateSync(file, readFileSync(file).length - 100);
    await expectRebuilt('damaged');
  });

  test('a file of another vault (as it is, and with this vault id written into its header)', async () => {
    const { file } = await persisted();
    const other = await tempVault();
    try {
      await other.custody.createRecord({ kind: 'note', title: 'other vault', body: 'basalt' });
      await other.custody.buildIndex();
      const foreign = readFileSync(join(other.dir, INDEX_FILE));
      writeFileSync(file, foreign);
      await expectRebuilt('foreign');
      // Same length ids (UUIDs): the header claims this vault, the seal says otherwise.
      writeFileSync(file, Buffer.from(foreign.toString('latin1').replace(other.vaultId, tv.vaultId), 'latin1'));
      await expectRebuilt('damaged');
    } finally {
      await other.cleanup();
    }
  });

  test('a file of an older format version', async () => {
    const { file } = await persisted();
    const bytes = readFileSync(file);
    // The format version follows the magic line (indexFile.ts).
    const at = bytes.indexOf('\n') + 1;
    bytes.writeUInt16BE(bytes.readUInt16BE(at) - 1, at);
    writeFileSync(file, bytes);
    await expectRebuilt('format');
  });

  test('a file in the older layout (summaries as one JSON array) under the current version number', async () => {
    // Not trusted because of its number alone: the layout itself is checked, and refused.
    const { c, file } = await persisted();
    const key = indexKey(c.vault.keys().vaultKey, c.vault.vaultId);
    const base = readBase(tv.dir, key, c.vault.vaultId);
    const outer = new ByteReader(base.bytes);
    const leftOut = outer.string();
    const inner = outer.bytes();
    const r = new ByteReader(inner);
    InvertedIndex.readFrom(r);
    const old = new ByteWriter();
    old.raw(inner.subarray(0, r.pos));
    const rows = (await c.list({ deleted: 'include', limit: 1000 })).map((s, slot) => [slot, s.id, s.kind, s.title, s.case, s.tags, s.classification, s.capturedAt, s.updatedAt, s.version, s.deletedAt]);
    old.string(JSON.stringify(rows));
    old.bytes(new Uint8Array(Int32Array.from(rows.map((_, i) => i)).buffer));
    const w = new ByteWriter();
    w.string(leftOut);
    w.bytes(old.finish());
    writeBase(tv.dir, key, c.vault.vaultId, { counter: base.counter, anchor: base.anchor, bytes: w.finish() });
    expect(readFileSync(file).includes(Buffer.from(c.vault.vaultId))).toBe(true);
    await expectRebuilt('damaged');
  });

  test('an index newer than the database (an older copy of custody.db put back)', async () => {
    await persisted();
    await tv.custody.close();
    const saved = join(tv.dir, '..', 'older.db');
    copyFileSync(join(tv.dir, 'custody.db'), saved);
    const c = await reopen(tv);
    await c.createRecord({ kind: 'note', title: 'after the copy', body: 'cobalt' });
    c.indexKeeper.save();
    await c.close();
    copyFileSync(saved, join(tv.dir, 'custody.db'));
    rmSync(join(tv.dir, 'custody.db-wal'), { force: true });
    rmSync(join(tv.dir, 'custody.db-shm'), { force: true });
    await expectRebuilt('stale');
  });

  test('a delta cut short or damaged: the frames before the damage count, the rest is read from the database', async () => {
    const { c } = await persisted();
    for (let i = 0; i < 3; i++) await c.createRecord({ kind: 'note', title: `late ${i}`, body: 'zephyr' });
    const delta = join(tv.dir, DELTA_FILE);
    truncateSync(delta, readFileSync(delta).length - 5);
    let again = await reopen(tv);
    expect(again.indexKeeper.origin).toMatchObject({ source: 'file', frames: 2, caughtUp: 1 });
    expectAgrees(again);
    expect(again.index.search({ text: 'zephyr' }).total).toBe(3);
    await again.createRecord({ kind: 'note', title: 'later', body: 'zephyr' });
    const bytes = readFileSync(delta);
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(delta, bytes);
    again = await reopen(tv);
    expect(again.indexKeeper.origin.source).toBe('file');
    expect(again.index.search({ text: 'zephyr' }).total).toBe(4);
    expectAgrees(again);
  });
});
