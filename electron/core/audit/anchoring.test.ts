// The log's signing key is anchored (issue 10, item 3). The attack from the security review:
// someone who can write the vault folder (but does not know the password) rewrites an entry,
// rebuilds the Merkle tree, re-signs every checkpoint and checkpoint.txt with a key of their
// own and swaps the stored public key. Before, `audit verify` and unlock both passed. Now the
// device key is attested by the vault key and checked at every unlock, verification with the
// vault unlocked trusts only attested keys, and verification while locked names the key it
// trusted and can be pinned to one (--vkey). The same attack from the command line is in
// electron/cli/auditCli.test.ts.
import { afterEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rewriteAndResign } from '../testing/attacks.ts';
import { formatVerifierKey } from './tlog/note.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

describe('the log signing key is anchored to the vault key', () => {
  test('the review attack (rewrite, rebuild, re-sign with an attacker key, swap the stored public key) is caught by unlock and by verification', async () => {
    tv = await tempVault();
    const r = await tv.custody.createRecord({ kind: 'note', title: 'evidence' });
    // What the analyst saved earlier (custody audit vkey), and the key's fingerprint.
    const savedVkey = tv.custody.vault.checkpoints.vkey;
    const savedFingerprint = keyFingerprint(tv.custody.vault.checkpoints.publicKey);
    const created = (await tv.custody.auditQuery({ event: 'record.created', target: `record:${r.id}` }))[0]!.seq;
    await tv.custody.lock();
    await tv.custody.close();

    const attackerKey = rewriteAndResign(tv.dir, created, { swapKey: true });
    const c = await tv.reopen();
    // The forged log is self-consistent: signed by the key the registry now names.
    expect(c.status().integrityProblem).toBeNull();

    // Unlock refuses: the registered key is not the one whose seed the vault key sealed.
    await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/not the key of its sealed seed/) });
    expect(c.status().unlocked).toBe(false);
    const refusal = (await c.auditQuery({ event: 'key.tamper_detected' }))[0];
    expect(refusal).toMatchObject({ success: false, entry: { details: { reason: 'public-key-mismatch' } } });

    // Locked, without a pin: it says which key it trusted (the attacker's, not the saved one).
    const locked = await c.verifyAudit();
    expect(locked.trust).toEqual({ basis: 'registry', keys: [{ fingerprint: keyFingerprint(attackerKey), vkey: expect.any(String) }] });
    expect(locked.trust!.keys[0]!.fingerprint).not.toBe(savedFingerprint);

    // Pinned to the key saved earlier: every re-signed checkpoint and checkpoint.txt fail.
    const pinned = await c.verifyAudit(undefined, { vkey: savedVkey });
    expect(pinned.ok).toBe(false);
    expect(pinned.trust).toMatchObject({ basis: 'pinned', keys: [{ fingerprint: savedFingerprint }] });
    const kinds = pinned.problems.map((p) => p.kind);
    expect(kinds).toContain('untrusted-key');
    expect(kinds).toContain('external-checkpoint-forged');
    expect(kinds.filter((k) => k === 'checkpoint-forged').length).toBe(c.vault.checkpoints.all().length);

  });

  test('re-signing without swapping the key fails both ways; an extra key the vault key never attested stops unlock', async () => {
    tv = await tempVault();
    await tv.custody.createRecord({ kind: 'note', title: 'evidence' });
    await tv.custody.close();
    rewriteAndResign(tv.dir, 3, { swapKey: false });
    let c = await tv.reopen();
    expect(c.status().integrityProblem).toMatch(/checkpoint.txt does not verify/);
    expect((await c.verifyAudit()).problems.map((p) => p.kind)).toContain('checkpoint-forged');

    // An attacker key added beside the real one (as a retired key) is not attested.
    const db = new Database(join(tv.dir, 'custody.db'));
    const extra = generateEd25519();
    db.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, public_key, usage_count) VALUES ('attacker', 'device_signing', 'Ed25519', 'retired', 0, 'f', ?, 0)").run(extra.publicKey);
    db.close();
    c = await tv.reopen();
    await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/not attested by the vault key/) });
    expect((await c.auditQuery({ event: 'key.tamper_detected' }))[0]).toMatchObject({ target: 'key:attacker', entry: { details: { reason: 'unattested' } } });
  });

  test('while unlocked, verification trusts only attested keys: a key swapped in during the session and its re-signed checkpoints fail', async () => {
    tv = await tempVault();
    await tv.custody.createRecord({ kind: 'note', title: 'evidence' });
    await tv.custody.vault.checkpointNow('batch');
    // Malware rewrites the folder while the vault is open.
    rewriteAndResign(tv.dir, 3, { swapKey: true });
    const r = await tv.custody.verifyAudit();
    expect(r.ok).toBe(false);
    expect(r.trust).toMatchObject({ basis: 'attested' });
    const kinds = r.problems.map((p) => p.kind);
    expect(kinds).toContain('external-checkpoint-forged');
    expect(kinds).toContain('checkpoint-forged');
  });

  test('a clean vault verifies locked (naming its key), pinned to its own vkey, and unlocked; a different pinned key fails', async () => {
    tv = await tempVault();
    await tv.custody.createRecord({ kind: 'note', title: 'fine' });
    const vkey = tv.custody.vault.checkpoints.vkey;
    const fingerprint = keyFingerprint(tv.custody.vault.checkpoints.publicKey);
    const unlocked = await tv.custody.verifyAudit();
    expect(unlocked).toMatchObject({ ok: true, trust: { basis: 'attested', keys: [{ fingerprint, vkey }] } });
    const c = await tv.reopen();
    expect(await c.verifyAudit()).toMatchObject({ ok: true, trust: { basis: 'registry', keys: [{ fingerprint, vkey }] } });
    expect(await c.verifyAudit(undefined, { vkey })).toMatchObject({ ok: true, trust: { basis: 'pinned' } });
    // Same name, another key: what a forger would hand out.
    const strangerVkey = formatVerifierKey(vkey.slice(0, vkey.indexOf('+')), generateEd25519().publicKey);
    const wrong = await c.verifyAudit(undefined, { vkey: strangerVkey });
    expect(wrong.ok).toBe(false);
    expect(wrong.problems[0]!.kind).toBe('untrusted-key');
    await expect(c.verifyAudit(undefined, { vkey: 'not a vkey' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('each device signs under its own key name; the checkpoint origin stays the log origin', async () => {
    tv = await tempVault();
    const { vaultId } = tv;
    const deviceId = tv.custody.vault.meta.deviceId;
    const note = readFileSync(join(tv.dir, 'checkpoint.txt'), 'utf8');
    expect(note.split('\n')[0]).toBe(`custody.vault/${vaultId}`);
    expect(note).toContain(`\u2014 custody.vault/${vaultId}/device/${deviceId} `);
    expect(tv.custody.vault.checkpoints.vkey.startsWith(`custody.vault/${vaultId}/device/${deviceId}+`)).toBe(true);
    // Attested at creation: nothing to add at the first unlock.
    expect(await tv.custody.auditQuery({ event: 'key.attested' })).toEqual([]);
    const row = await tv.custody.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'device_signing' } });
    expect(row.attestation).toHaveLength(32);
  });
});

test('which keys verification trusts follows the lock: the registry key while locked, attested keys while unlocked', async () => {
  tv = await tempVault({ unlock: false });
  const c2 = await Custody.open(tv.dir);
  try {
    expect(c2.vault.checkpoints.trustBasis).toBe('registry');
    await c2.unlock(PASSWORD, { buildIndex: false });
    expect(c2.vault.checkpoints.trustBasis).toBe('attested');
    await c2.lock();
    expect(c2.vault.checkpoints.trustBasis).toBe('registry');
  } finally {
    await c2.close();
  }
});
