// Issue 11 figures: disclose 10,000 records (no attachments) as one package, then open and verify
// that package into a reviewer's vault (age layer, statement, checkpoint, every proof, every
// record decrypted and checked against its trail, import into the received area).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { Custody } from '../electron/core/custody.ts';
import { KDF_FLOOR } from '../electron/core/crypto/kdf.ts';
import { insertRecords } from '../electron/core/records/importer.ts';
import { disclose } from '../electron/core/sharing/disclose.ts';
import { openIntoVault } from '../electron/core/sharing/received.ts';
import { ceilingFigure, type Figure } from './figures.ts';
import { makeRecords } from './vault.bench.ts';

const PASSWORD = 'benchmark password';

async function vault(dir: string): Promise<Custody> {
  await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
  const c = await Custody.open(dir);
  await c.unlock(PASSWORD, { buildIndex: false });
  return c;
}

export async function disclosureBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  if (!only('disclos')) return [];
  const issuer = await vault(join(root, 'disclosure-issuer'));
  const reviewer = await vault(join(root, 'disclosure-reviewer'));
  try {
    // makeRecords spreads captures over 2026: a grant of the whole year takes all 10,000.
    await insertRecords(issuer.vault, makeRecords(10_000, 11));
    const identity = await generateHybridIdentity();
    const out = join(root, 'disclosure-10k.age');
    // CPU time beside wall time: on a shared, loaded machine the wall figure mostly measures the load.
    const cpuS = (since: NodeJS.CpuUsage) => {
      const u = process.cpuUsage(since);
      return ((u.user + u.system) / 1e6).toFixed(2);
    };
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    const r = await disclose(issuer, { to: [await identityToRecipient(identity)], from: '2026-01-01', until: '2026-12-31', purpose: 'benchmark', out });
    const discloseS = (performance.now() - t0) / 1000;
    const bytes = readFileSync(out);
    log(`  disclosed ${r.records} records (${(bytes.length / 1e6).toFixed(1)} MB) in ${discloseS.toFixed(2)} s (CPU ${cpuS(c0)} s)`);
    c0 = process.cpuUsage();
    t0 = performance.now();
    const opened = await openIntoVault(reviewer, bytes, { identityFile: new TextEncoder().encode(identity) });
    const openS = (performance.now() - t0) / 1000;
    log(`  opened, verified and imported ${opened.records.length} records in ${openS.toFixed(2)} s (CPU ${cpuS(c0)} s)`);
    return [ceilingFigure(`disclose ${r.records} records (no attachments)`, discloseS, 's', 3), ceilingFigure('open and verify that package', openS, 's', 3)];
  } finally {
    await issuer.close();
    await reviewer.close();
  }
}
