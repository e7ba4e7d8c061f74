// `custody report` (export a signed chain-of-custody report), `custody verify` (check one with
// no vault and no network) and `custody cert import` (sign reports with an organisation's key).
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportReport } from '../core/reports/export.ts';
import { verifyReport, type ReportVerification } from '../core/reports/verifyReport.ts';
import { importPdfSigningIdentity } from '../core/reports/signingIdentity.ts';
import { CustodyError } from '../shared/errors.ts';
import { progressBar } from './progress.ts';
import { printJson } from './format.ts';
import { opts, withVault } from './globals.ts';
import { VerifyFailed } from './auditCommands.ts';


export function registerReportCommands(program: Command): void {
  const g = opts;
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

  program
    .command('report')
    .description('export a signed chain-of-custody report (report.pdf, events, proofs, signed manifest)')
    .requiredOption('--out <dir>', 'output folder (or zip path with --zip)')
    .requiredOption('--purpose <text>', 'why the report is made (printed on the cover; the audit log keeps only the report\'s hash)')
    .option('--recipient <name>', 'who receives it')
    .option('--case <name>', 'only this case')
    .option('--records <ids>', 'only these records (comma-separated ids)', list)
    .option('--from <iso>', 'records captured at or after, and vault events from this time')
    .option('--to <iso>', 'records captured at or before, and vault events until this time')
    .option('--since-checkpoint <file>', 'a signed checkpoint the recipient already holds: add a consistency proof from it')
    .option('--zip', 'write one zip file')
    .action(async (_o, cmd: Command) => {
      const o = g<{ out: string; purpose: string; recipient?: string; case?: string; records?: string[]; from?: string; to?: string; sinceCheckpoint?: string; zip?: boolean }>(cmd);
      const since = o.sinceCheckpoint ? readFileSync(o.sinceCheckpoint, 'utf8') : undefined;
      const bar = progressBar('report');
      const r = await withVault(o, (c) =>
          exportReport(c, { outDir: resolve(o.out), purpose: o.purpose, recipient: o.recipient, case: o.case, recordIds: o.records, from: o.from, to: o.to, zip: o.zip, sinceCheckpoint: since, onProgress: (d, t) => bar.update(d, t) }),
        )
        .finally(bar.stop);
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `wrote ${r.path}: ${r.records} records, ${r.entries} audit entries, anchored to the signed log at size ${r.checkpointSize}\nmanifest SHA-256 ${r.manifestSha256}\n` +
            `verifier key fingerprint ${r.vkeyFingerprint}: give it (or the key, from custody audit vkey) to the recipient through another channel than the report\n` +
            `check it anywhere with: custody verify ${r.path} --vkey <file holding that key>\n`,
        );
    });

  program
    .command('verify <report>')
    .description('verify a report folder or zip offline; exit 0 only if everything holds')
    .option('--vkey <file>', "the analyst's verifier key, obtained from them (custody audit vkey): the report must be signed by it (otherwise the report's own key is used, and shown)")
    .action(async (path: string, _o, cmd: Command) => {
      const o = g<{ vkey?: string }>(cmd);
      const pinned = o.vkey ? readFileSync(o.vkey, 'utf8') : undefined;
      let r;
      try {
        r = await verifyReport(resolve(path), { vkey: pinned });
      } catch (e) {
        throw new CustodyError('NOT_FOUND', (e as Error).message);
      }
      if (o.json) printJson(r);
      else {
        for (const c of r.checks) process.stdout.write(`${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}\n`);
        const pruned = r.prunedEntries ? ` (${r.prunedEntries} of them pruned under retention: leaf hash only)` : '';
        process.stdout.write(r.ok ? `\nVERIFIED: ${r.entries} audit entries${pruned} of ${r.origin}, anchored to its signed log at size ${r.checkpointSize}\n` : `\nNOT VERIFIED: ${r.checks.filter((c) => !c.ok).length} check(s) failed\n`);
        process.stdout.write(signerText(r, path));
      }
      if (!r.ok) throw new VerifyFailed();
    });

  program
    .command('cert')
    .description('the certificate that signs report PDFs')
    .command('import <p12>')
    .description("sign reports with an organisation's PKCS#12 (the passphrase comes from --passphrase-file or $CUSTODY_P12_PASSPHRASE)")
    .option('--passphrase-file <file>', 'read the PKCS#12 passphrase from a file')
    .action(async (p12: string, _o, cmd: Command) => {
      const o = g<{ passphraseFile?: string }>(cmd);
      const passphrase = o.passphraseFile ? readFileSync(o.passphraseFile, 'utf8').replace(/\r?\n$/, '') : (process.env.CUSTODY_P12_PASSPHRASE ?? '');
      const r = await withVault(o, (c) => importPdfSigningIdentity(c.vault, readFileSync(p12), passphrase));
      if (o.json) printJson(r);
      else process.stdout.write(`reports are now signed by ${r.subject} (certificate SHA-256 ${r.certificateSha256})\n`);
    });
}

/** Who the report was checked against: said plainly, since a report can carry any key. */
function signerText(r: ReportVerification, path: string): string {
  const s = r.signer;
  if (!s) return '';
  if (r.expectedSigner)
    return `\nThe report is signed by the key\n  ${s.vkey}\n  fingerprint ${s.fingerprint}\nnot by the key you expected (--vkey), fingerprint ${r.expectedSigner.fingerprint}.\n`;
  if (s.trust === 'pinned') return `\nChecked against the key you gave (--vkey), fingerprint ${s.fingerprint}.\n`;
  return (
    `\nChecked against the key the report itself carries (verifier.vkey), not one you already trust:\n  ${s.vkey}\n  fingerprint ${s.fingerprint}\n` +
    'Anyone can make a report that verifies with a key of their own. Compare this key or its fingerprint with the one\n' +
    'you get from the analyst through another channel (on their vault: custody audit vkey, or custody audit vkey --fingerprint),\n' +
    `or save their key to a file and run: custody verify ${path} --vkey <file>\n`
  );
}
