// `custody keys rotate record-keys` covers attachments: after it, the leaked epoch keys, and
// every key they lead to (the old data keys, the old attachment keys, from rows an attacker
// copied before), open no attachment row or blob left in the vault; the attachments still open
// and verify, and the log's commitments to their hashes still open. A kill -9 after the day's
// blobs were staged, or after its rows committed and before the blobs were placed, leaves
// every attachment readable once the rerun finishes, and no staged file behind.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ad, open } from '../crypto/aead.ts';
import { Custody } from '../custody.ts';
import { rotateRecordKeys, unfinishedJob } from '../keys/recordKeys.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { verifyBlob } from './blobfile.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});
const CLI = resolve('out/cli/custody.mjs');
const context = (vaultId: string, id: string) => Buffer.from(`custody/attachment/v1 ${vaultId} ${id}`, 'utf8');

interface Stolen {
  id: string;
  recordId: string;
  day: string;
  wrappedDek: Buffer;
  wrappedKey: Buffer;
  blob: Buffer;
}

async function seeded() {
  tv = await tempVault();
  const c = tv.custody;
  const src = tempDir('custody-rekey-src-');
  const att: string[] = [];
  const recs: string[] = [];
  for (const [day, n] of [['2026-01-10', 2], ['2026-01-12', 1], ['2026-02-01', 1]] as const) {
    const r = await c.createRecord({ kind: 'note', title: `t ${day}`, body: 'b', capturedAt: `${day}T09:00:00Z` });
    recs.push(r.id);
    for (let i = 0; i < n; i++) {
      const f = join(src, `${day}-${i}.bin`);
      writeFileSync(f, Buffer.alloc(40_000 + i * 17_000, day.charCodeAt(9) + i));
      att.push((await c.addAttachment(r.id, f)).id);
    }
  }
  const keys = c.vault.keys();
  const leaked = new Map(['2026-01-10', '2026-01-12'].map((d) => [d, Buffer.from(keys.epochKey(d))]));
  // What an attacker copied before the rotation: the rows and blobs.
  const stolen = (c.vault.db.sql.prepare('SELECT a.id, a.record_id AS recordId, r.epoch_day AS day, r.wrapped_dek AS wrappedDek, a.wrapped_key AS wrappedKey FROM attachment a JOIN record r ON r.id = a.record_id ORDER BY a.id').all() as Omit<Stolen, 'blob'>[]).map((s) => ({
    ...s,
    blob: readFileSync(join(tv!.dir, 'attachments', `${s.id}.cce`)),
  }));
  const commitments = new Map((await c.auditQuery({ event: 'attachment.added', limit: 100 })).map((e) => [e.target!.slice('attachment:'.length), e.entry!.details.sha256Commitment as string]));
  return { c, att, recs, leaked, stolen, commitments };
}

/** Every key the leaked day keys lead to, from the copied rows: the old chain, then the old attachment key. */
function oldAttachmentKey(vaultId: string, leaked: Map<string, Buffer>, s: Stolen): { chain: Buffer[]; key: Buffer } {
  const plain = open(leaked.get(s.day)!, s.wrappedDek, ad('dek', vaultId, s.recordId, s.day));
  const chain = Array.from({ length: plain.length / 32 }, (_, i) => plain.subarray(i * 32, i * 32 + 32));
  for (const k of chain) {
    try {
      return { chain, key: open(k, s.wrappedKey, ad('attachment-key', vaultId, s.recordId, s.id)) };
    } catch {
      // another key of the chain
    }
  }
  throw new Error('the copied rows do not open: the test is wrong');
}

const opensAny = (keys: Buffer[], wrapped: Buffer, adBytes: Buffer) =>
  keys.some((k) => {
    try {
      open(k, wrapped, adBytes);
      return true;
    } catch {
      return false;
    }
  });

async function leakedOpensNothing(c: Custody, leaked: Map<string, Buffer>, stolen: Stolen[]): Promise<void> {
  const vid = c.vault.vaultId;
  for (const s of stolen.filter((x) => leaked.has(x.day))) {
    const { chain, key } = oldAttachmentKey(vid, leaked, s);
    const now = c.vault.db.sql.prepare('SELECT r.wrapped_dek AS wrappedDek, a.wrapped_key AS wrappedKey FROM attachment a JOIN record r ON r.id = a.record_id WHERE a.id = ?').get(s.id) as { wrappedDek: Buffer; wrappedKey: Buffer };
    // The leaked day key opens the record's current chain no more...
    expect(opensAny([leaked.get(s.day)!], now.wrappedDek, ad('dek', vid, s.recordId, s.day))).toBe(false);
    // ...the old data keys open the attachment's current key no more...
    expect(opensAny(chain, now.wrappedKey, ad('attachment-key', vid, s.recordId, s.id))).toBe(false);
    // ...and the old attachment key opens the blob in the vault no more.
    const path = join(c.vault.dir, 'attachments', `${s.id}.cce`);
    expect(readFileSync(path).equals(s.blob)).toBe(false);
    await expect(verifyBlob(path, key, context(vid, s.id))).rejects.toThrow();
  }
}

async function allOpen(c: Custody, att: string[], commitments: Map<string, string>): Promise<void> {
  for (const id of att) {
    expect((await c.verifyAttachment(id)).ok).toBe(true);
    // The report's opening still opens the commitment the log holds since the attachment was added.
    expect((await c.attachments.opening(id))!.commitment).toBe(commitments.get(id));
  }
  expect(readdirSync(join(c.vault.dir, 'attachments')).filter((n) => !n.endsWith('.cce'))).toEqual([]);
}

describe('record-keys re-encryption covers attachments', () => {
  test('the leaked epoch keys, and the old keys they lead to, open no attachment in the range; the others are untouched; all still open', async () => {
    const { c, att, leaked, stolen, commitments } = await seeded();
    const progress: number[] = [];
    const r = await rotateRecordKeys(c.vault, { fromDay: '2026-01-01', untilDay: '2026-01-31', onProgress: (p) => progress.push(p.attachmentsDone) });
    expect(r.attachmentsDone).toBe(3);
    expect(progress).toEqual([2, 3]);
    await leakedOpensNothing(c, leaked, stolen);
    const outside = stolen.find((s) => s.day === '2026-02-01')!;
    expect(readFileSync(join(c.vault.dir, 'attachments', `${outside.id}.cce`)).equals(outside.blob)).toBe(true);
    await allOpen(c, att, commitments);
    expect((await c.verifyAudit()).ok).toBe(true);
  }, 300_000);

  test.each(['record-keys:attachments-staged', 'record-keys:before-place'])('kill -9 at %s: the rerun finishes; every attachment opens, none under the old keys', async (step) => {
    const { att, leaked, stolen, commitments } = await seeded();
    await tv!.custody.close();
    const child = spawn(process.execPath, [CLI, '--vault', tv!.dir, 'keys', 'rotate', 'record-keys', '--from', '2026-01-01', '--until', '2026-01-31'], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_FAULT: step }, stdio: 'ignore' });
    expect(await new Promise((res) => child.on('exit', (_c, s) => res(s)))).toBe('SIGKILL');
    const c = await Custody.open(tv!.dir);
    try {
      await c.unlock(PASSWORD, { buildIndex: false });
      // Staged: no day committed. Before placing: the first day committed, its blobs staged beside.
      expect(unfinishedJob(c.vault)!.done_through).toBe(step === 'record-keys:before-place' ? '2026-01-10' : null);
      expect(readdirSync(join(tv!.dir, 'attachments')).filter((n) => n.includes('.rekey-')).length).toBe(2);
      const r = await rotateRecordKeys(c.vault);
      expect(r.resumed).toBe(true);
      await leakedOpensNothing(c, leaked, stolen);
      await allOpen(c, att, commitments);
      expect((await c.verifyAudit()).ok).toBe(true);
    } finally {
      await c.close();
    }
  }, 300_000);
});
