// A report made after a device key rotation verifies with the new verifier key and carries the
// handover (signed by the old key), even when its records all came after the rotation.
import { afterEach, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyOfVkey } from '../audit/checkpoints.ts';
import { noteVerifier, openNote } from '../audit/tlog/note.ts';
import { exportReport } from '../reports/export.ts';
import { verifyReport } from '../reports/verifyReport.ts';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateDeviceKey } from './deviceKeyRotation.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

test('a report after rotation verifies with the new vkey, not the old one, and shows the handover the old key signed', async () => {
  tv = await tempVault();
  const c = tv.custody;
  const oldVkey = c.vault.checkpoints.vkey;
  const rot = await rotateDeviceKey(c.vault);
  await c.createRecord({ kind: 'note', title: 'after the rotation', body: 'x', case: 'Heron' });
  const out = join(tempDir(), 'report');
  await exportReport(c, { outDir: out, case: 'Heron', purpose: 'after rotation' });
  expect(readFileSync(join(out, 'verifier.vkey'), 'utf8').trim()).toBe(rot.vkey);
  const ok = await verifyReport(out, { vkey: rot.vkey });
  expect(ok.ok).toBe(true);
  expect((await verifyReport(out, { vkey: oldVkey })).ok).toBe(false);
  const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; details: Record<string, unknown> });
  const handover = events.find((e) => e.event === 'key.rotated' && e.details.kind === 'device_signing');
  expect(handover).toBeDefined();
  expect(() => openNote(String(handover!.details.handover), [noteVerifier(c.vault.checkpoints.keyName, publicKeyOfVkey(oldVkey))])).not.toThrow();
  expect(String(handover!.details.handover)).toContain(rot.vkey);
});
