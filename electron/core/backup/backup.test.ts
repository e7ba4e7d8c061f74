// Backup, verify and restore on real vaults: a snapshot taken while the vault is open and being
// written, every way of altering a backup caught, restore into a new folder only, rollback
// reported, the restore the first entry after the backup's last one, age wrapping both ways.
import { afterEach, describe, expect, test } from 'vitest';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { Custody } from '../custody.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { createBackup } from './createBackup.ts';
import { verifyBackup } from './verifyBackup.ts';
import { restoreBackup } from './restoreBackup.ts';
import { END_OF_ARCHIVE, padding, tarHeader } from './tar.ts';

let tv: TempVault | undefined;
const dirs: string[] = [];
const opened: Custody[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close().catch(() => undefined);
  await tv?.cleanup();
  tv = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = tempDir('custody-backup-test-');
  dirs.push(d);
  return d;
};

async function vaultWithContent(): Promise<{ tv: TempVault; ids: string[]; attachment: string }> {
  tv = await tempVault();
  const c = tv.custody;
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await c.createRecord({ kind: 'note', title: `note ${i}`, body: `body ${i}` })).id);
  const src = join(scratch(), 'photo.bin');
  writeFileSync(src, Buffer.alloc(300_000, 7));
  const a = await c.addAttachment(ids[0]!, src);
  return { tv, ids, attachment: a.id };
}

/** Every entry of a plain backup as [name, offset of content, size]. */
function entries(file: string): { name: string; offset: number; size: number }[] {
  const buf = readFileSync(file);
  const out = [];
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii'), 8);
    out.push({ name, offset: off + 512, size });
    off += 512 + size + ((512 - (size % 512)) % 512);
  }
  return out;
}

describe('backup', () => {
  test('a backup taken while the vault is open verifies, restores into a new folder, opens with the same password and has the restore as the entry after its last', async () => {
    const { tv, ids, attachment } = await vaultWithContent();
    const c = tv.custody;
    const out = join(scratch(), 'vault.custody-backup');
    const r = await createBackup(c.vault, out);
    expect(r.manifest.records).toBe(5);
    expect(r.manifest.attachments).toBe(1);
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // The live vault logged the backup (after the snapshot: it is not inside it).
    const log = await c.auditQuery({ order: 'desc', limit: 1 });
    expect(log[0]!.event).toBe('backup.created');
    expect(r.manifest.audit.size).toBe(log[0]!.seq);

    // The vault keeps working while and after the backup is taken.
    await c.createRecord({ kind: 'note', title: 'after the backup', body: 'x' });

    const structure = await verifyBackup(out);
    expect(structure).toMatchObject({ ok: true, level: 'structure', problems: [] });
    const full = await verifyBackup(out, { password: PASSWORD });
    expect(full).toMatchObject({ ok: true, level: 'full', problems: [] });
    expect((await verifyBackup(out, { password: 'wrong password!' })).problems).toEqual(['the password does not open the backed-up vault']);

    const dest = join(scratch(), 'restored');
    const res = await restoreBackup(out, dest, { password: PASSWORD });
    expect(res.rollback).toBeNull();
    const restored = await Custody.open(dest);
    opened.push(restored);
    expect(restored.vault.integrityProblem).toBeNull();
    const entry = (await restored.vault.audit.query({ order: 'asc', limit: 10_000 })).find((e) => e.seq === r.manifest.audit.size);
    expect(entry?.event).toBe('vault.restored');
    await restored.unlock(PASSWORD, { buildIndex: false });
    expect((await restored.list()).map((s) => s.id).sort()).toEqual([...ids].sort());
    expect((await restored.verifyAttachment(attachment)).ok).toBe(true);
    expect((await restored.verifyAudit()).ok).toBe(true);
    // The recovery key opens it too.
    await restored.lock();
    await restored.recover(tv.recoveryKey, 'a brand new password');
    expect(restored.status().unlocked).toBe(true);
  }, 300_000);

  test('restore never overwrites: an existing vault or a non-empty folder is refused and left as it was', async () => {
    const { tv } = await vaultWithContent();
    const out = join(scratch(), 'b.tar');
    await createBackup(tv.custody.vault, out);
    await expect(restoreBackup(out, tv.dir, { password: PASSWORD })).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
    const busy = join(scratch(), 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    await expect(restoreBackup(out, busy, { password: PASSWORD })).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
    expect(readFileSync(join(busy, 'keep.txt'), 'utf8')).toBe('mine');
    // A wrong password restores nothing.
    const dest = join(scratch(), 'x', 'restored');
    await expect(restoreBackup(out, dest, { password: 'not the password' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(existsSync(dest)).toBe(false);
  });

  test('a backup never overwrites a file', async () => {
    const { tv } = await vaultWithContent();
    const out = join(scratch(), 'b.tar');
    writeFileSync(out, 'an older file');
    await expect(createBackup(tv.custody.vault, out)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(readFileSync(out, 'utf8')).toBe('an older file');
  });

  test('every alteration is caught: a flipped byte in the database, an attachment or the header; a truncated file; an extra entry; a forged manifest', async () => {
    const { tv } = await vaultWithContent();
    const out = join(scratch(), 'b.tar');
    await createBackup(tv.custody.vault, out);
    const good = readFileSync(out);
    const list = entries(out);
    const variant = async (name: string, mutate: (b: Buffer) => Buffer) => {
      const f = join(scratch(), `${name}.tar`);
      writeFileSync(f, mutate(Buffer.from(good)));
      return verifyBackup(f);
    };
    for (const which of ['custody.db', 'vault.json', 'checkpoint.txt']) {
      const e = list.find((x) => x.name === which)!;
      const v = await variant(which, (b) => {
        b[e.offset + Math.floor(e.size / 2)]! ^= 1;
        return b;
      });
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toContain(`${which} in the backup does not match its SHA-256`);
    }
    const att = list.find((x) => x.name.startsWith('attachments/'))!;
    const va = await variant('att', (b) => {
      b[att.offset + 1000]! ^= 1;
      return b;
    });
    expect(va.problems[0]).toMatch(/attachments\/.*does not match its SHA-256/);
    expect((await variant('trunc', (b) => b.subarray(0, Math.floor(b.length / 2)))).problems[0]).toMatch(/truncated/);
    const man = list.find((x) => x.name === 'manifest.json')!;
    expect((await variant('noManifest', (b) => b.subarray(0, man.offset - 512))).problems[0]).toMatch(/truncated|no signed manifest/);
    const extra = await variant('extra', (b) => {
      const body = Buffer.from('evil');
      return Buffer.concat([tarHeader('../../evil.sh', body.length, 0), body, padding(body.length), b]);
    });
    expect(extra.problems[0]).toMatch(/an entry no backup has/);
    // The manifest rewritten to match an altered database: the signature fails.
    const forged = await variant('forged', (b) => {
      const m = JSON.parse(b.subarray(man.offset, man.offset + man.size).toString('utf8'));
      m.records = 99;
      const bytes = Buffer.from(JSON.stringify(m));
      const before = b.subarray(0, man.offset - 512);
      const sig = list.find((x) => x.name === 'manifest.sig')!;
      const sigBytes = b.subarray(sig.offset, sig.offset + sig.size);
      return Buffer.concat([before, tarHeader('manifest.json', bytes.length, 0), bytes, padding(bytes.length), tarHeader('manifest.sig', sigBytes.length, 0), sigBytes, padding(sigBytes.length), END_OF_ARCHIVE]);
    });
    expect(forged.problems[0]).toMatch(/signature does not verify/);
    // None of them restores.
    const f = join(scratch(), 'bad.tar');
    writeFileSync(f, good.subarray(0, good.length - 2048));
    const dest = join(scratch(), 'r');
    await expect(restoreBackup(f, dest, { password: PASSWORD })).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(existsSync(dest)).toBe(false);
  });

  test('restoring a backup older than a checkpoint the user holds is done but reported as a rollback, in the result and in the log', async () => {
    const { tv } = await vaultWithContent();
    const out = join(scratch(), 'old.tar');
    const b = await createBackup(tv.custody.vault, out);
    await tv.custody.createRecord({ kind: 'note', title: 'made after the backup', body: 'x' });
    await tv.custody.lock();
    const dest = join(scratch(), 'restored');
    const res = await restoreBackup(out, dest, { password: PASSWORD, heldCheckpoint: tv.dir });
    expect(res.rollback).toMatchObject({ kind: 'older', backupSize: b.manifest.audit.size });
    expect(res.rollback!.heldSize).toBeGreaterThan(b.manifest.audit.size);
    expect(res.rollback!.message).toMatch(/^ROLLBACK: /);
    const restored = await Custody.open(dest);
    opened.push(restored);
    const e = (await restored.vault.audit.query({ order: 'asc', limit: 10_000 })).find((x) => x.seq === b.manifest.audit.size)!;
    expect(e.entry?.details).toMatchObject({ rollback: true, rollbackKind: 'older', heldCheckpointSize: res.rollback!.heldSize });
    // A checkpoint of another vault is refused, not silently ignored.
    const other = await tempVault();
    try {
      await expect(restoreBackup(out, join(scratch(), 'r2'), { password: PASSWORD, heldCheckpoint: other.dir })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    } finally {
      await other.cleanup();
    }
  });

  test('age: a backup for a recipient opens only with its identity; one with a passphrase only with it', async () => {
    const { tv } = await vaultWithContent();
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const out = join(scratch(), 'b.age');
    await createBackup(tv.custody.vault, out, { encryption: { kind: 'recipients', recipients: [recipient] } });
    const fd = openSync(out, 'r');
    const head = Buffer.alloc(22);
    readSync(fd, head, 0, 22, 0);
    closeSync(fd);
    expect(head.toString()).toBe('age-encryption.org/v1\n');
    // Nothing of the vault is readable in the file.
    expect(readFileSync(out).includes(Buffer.from('custody-vault'))).toBe(false);
    await expect(verifyBackup(out)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await verifyBackup(out, { secrets: { identities: [identity] }, password: PASSWORD })).ok).toBe(true);
    const stranger = await generateIdentity();
    await expect(verifyBackup(out, { secrets: { identities: [stranger] } })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const restored = join(scratch(), 'r');
    await restoreBackup(out, restored, { password: PASSWORD, secrets: { identities: [identity] } });
    expect(existsSync(join(restored, 'vault.json'))).toBe(true);

    const pp = join(scratch(), 'p.age');
    await createBackup(tv.custody.vault, pp, { encryption: { kind: 'passphrase', passphrase: 'a long backup passphrase', scryptWorkFactor: 12 } });
    expect((await verifyBackup(pp, { secrets: { passphrase: 'a long backup passphrase' } })).ok).toBe(true);
    await expect(verifyBackup(pp, { secrets: { passphrase: 'the wrong passphrase' } })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    // A flipped byte in the ciphertext is caught.
    const bad = readFileSync(pp);
    bad[bad.length - 100]! ^= 1;
    const badFile = join(scratch(), 'bad.age');
    writeFileSync(badFile, bad);
    expect((await verifyBackup(badFile, { secrets: { passphrase: 'a long backup passphrase' } })).ok).toBe(false);
  }, 300_000);
});

