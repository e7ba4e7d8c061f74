// `custody disclose | open | received | grants | ack`: issuing a disclosure package, opening one
// (into this vault's read-only received area, or without a vault as a verified dump), reviewing
// received material, the issuer's list of grants and acknowledgements (docs/sharing.md).
import type { Command } from 'commander';
import { read } from 'read';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CustodyError } from '../shared/errors.ts';
import { fromFile } from './secrets.ts';
import { CLASSIFICATIONS, type Classification } from '../shared/records.ts';
import { HEADER_FILE } from '../core/vault/header.ts';
import { disclose, listGrants, showGrant } from '../core/sharing/disclose.ts';
import { disclosureJson, openPackage } from '../core/sharing/openDisclosure.ts';
import { listReceived, openIntoVault, openReceivedAttachment, readPackageFile, showReceived, viewReceivedRecord, type ReceivedGrantView } from '../core/sharing/received.ts';
import { acknowledge, importAcknowledgement } from '../core/sharing/acknowledgement.ts';
import { readIdentityFile } from '../core/sharing/identity.ts';
import { printJson, printRecords } from './format.ts';
import { collect, opts, vaultDir, withVault } from './globals.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** The passphrase of an identity file: --passphrase-file, $CUSTODY_IDENTITY_PASSPHRASE, else a prompt. */
function identityPassphrase(o: { passphraseFile?: string }): () => Promise<string> {
  return async () => {
    if (o.passphraseFile) {
      return fromFile(o.passphraseFile, 'passphrase');
    }
    if (process.env.CUSTODY_IDENTITY_PASSPHRASE) return process.env.CUSTODY_IDENTITY_PASSPHRASE;
    if (!process.stdin.isTTY) throw new CustodyError('BAD_REQUEST', 'the identity file is protected by a passphrase: pass --passphrase-file FILE or set CUSTODY_IDENTITY_PASSPHRASE');
    return read({ prompt: 'Passphrase of the identity file: ', silent: true, replace: '', output: process.stderr });
  };
}

function readFileOr(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CustodyError('NOT_FOUND', `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function grantText(g: ReceivedGrantView): string {
  return [
    `grant ${g.grantId}${g.expired ? '  (EXPIRED: its material can no longer be opened)' : ''}`,
    `  from            vault ${g.issuerVaultId}, device key fingerprint ${g.issuerFingerprint}`,
    `  purpose         ${g.purpose}`,
    `  days            ${g.from} to ${g.until} (${g.scope === 'days' ? 'whole days' : 'selected records only'}), ${g.records} records`,
    `  issued          ${g.issuedAt}`,
    `  expires         ${g.expiresAt ?? 'never'}`,
    `  envelope        ${g.postQuantum ? 'post-quantum (mlkem768x25519)' : 'NOT post-quantum (a classical X25519 recipient)'}`,
    `  grant SHA-256   ${g.grantSha256}`,
  ].join('\n');
}

export function registerDisclosureCommands(program: Command): void {
  program
    .command('disclose')
    .description('grant a reviewer exactly a time range (or part of it) as an age-encrypted disclosure package')
    .requiredOption('--to <name|recipient>', 'an address-book name or an age recipient (age1pq1…); repeatable', collect)
    .requiredOption('--from <day>', 'first UTC day granted (YYYY-MM-DD)')
    .requiredOption('--until <day>', 'last UTC day granted, inclusive (YYYY-MM-DD)')
    .option('--case <name>', 'only records of this case (then only their record keys travel, no day keys)')
    .option('--tag <tag>', 'only records with this tag; repeatable (all must match)', collect)
    .option('--max-classification <level>', `only records up to this classification (${CLASSIFICATIONS.join(', ')})`)
    .option('--records <ids>', 'only these records (comma-separated ids, within the days)', list)
    .option('--with-attachments', 'include the records\' attachments')
    .option('--with-history', 'include earlier versions of the records (those sealed within the days)')
    .option('--allow-classical', 'accept a classical X25519 recipient (age1…): the package is then not post-quantum')
    .requiredOption('--purpose <text>', 'why the reviewer gets this (in the signed grant statement; the audit log keeps only a commitment)')
    .option('--expires <date>', 'last day (YYYY-MM-DD, UTC) or time the grant may be opened')
    .requiredOption('--out <file.age>', 'where to write the package')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ to: string[]; from: string; until: string; case?: string; tag?: string[]; maxClassification?: string; records?: string[]; withAttachments?: boolean; withHistory?: boolean; allowClassical?: boolean; purpose: string; expires?: string; out: string }>(cmd);
      if (o.maxClassification !== undefined && !(CLASSIFICATIONS as readonly string[]).includes(o.maxClassification)) throw new CustodyError('BAD_REQUEST', `--max-classification must be one of ${CLASSIFICATIONS.join(', ')}`);
      const r = await withVault(o, (c) =>
        disclose(c, {
          to: o.to,
          from: o.from,
          until: o.until,
          case: o.case,
          tags: o.tag,
          maxClassification: o.maxClassification as Classification | undefined,
          records: o.records,
          withAttachments: o.withAttachments,
          withHistory: o.withHistory,
          allowClassical: o.allowClassical,
          purpose: o.purpose,
          expires: o.expires,
          out: resolve(o.out),
        }),
      );
      if (o.json) return printJson(r);
      say(`wrote ${r.path}: grant ${r.grantId}, ${r.records} records${r.attachments ? ` and ${r.attachments} attachments` : ''} of ${r.days[0]} to ${r.days.at(-1)} (${r.scope === 'days' ? `the keys of ${r.days.length} whole days` : 'only the selected records\' keys'})`);
      for (const x of r.recipients) say(`  to ${x.fingerprint}  ${x.recipient.slice(0, 24)}…`);
      if (!r.postQuantum) say('  WARNING: a recipient is classical X25519: this package is NOT post-quantum');
      say(`expires ${r.expiresAt ?? 'never'}; package SHA-256 ${r.packageSha256}`);
      say(`issuer device key fingerprint ${r.issuerFingerprint}: tell the reviewer through another channel, so they can check it when they open the package`);
    });

  program
    .command('open <file>')
    .description('verify a disclosure package and import it into this vault\'s read-only received area (or, without a vault, print what it holds)')
    .option('--identity <file>', 'an age identity file (else this vault\'s identity)')
    .option('--passphrase-file <file>', 'the identity file\'s passphrase (else $CUSTODY_IDENTITY_PASSPHRASE, else a prompt)')
    .option('--expect-issuer <fingerprint>', 'refuse unless the issuer\'s device key has this fingerprint (or verifier key)')
    .option('--without-vault', 'use no vault (also when none exists): verify with --identity only and print the content (with --json, all of it)')
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts<{ identity?: string; passphraseFile?: string; expectIssuer?: string; withoutVault?: boolean }>(cmd);
      const bytes = readPackageFile(resolve(file));
      const identityFile = o.identity ? readFileOr(resolve(o.identity), 'identity file') : undefined;
      const noVault = o.withoutVault === true || !existsSync(join(vaultDir(o), HEADER_FILE));
      if (noVault) {
        if (!identityFile) throw new CustodyError('BAD_REQUEST', 'without a vault, give the identity to open the package with (--identity FILE)');
        const v = await openPackage(bytes, await readIdentityFile(identityFile, identityPassphrase(o)), { expectIssuer: o.expectIssuer });
        if (o.json) return printJson(disclosureJson(v));
        const st = v.statement;
        say(`VERIFIED grant ${st.grantId}: ${v.records.length} records of ${st.from} to ${st.until}, ${v.entries.length} audit entries proven in the issuer's signed log`);
        say(`issuer device key fingerprint ${v.issuerFingerprint} (compare it with the one the issuer gave you)\npurpose ${st.purpose}\nexpires ${st.expiresAt ?? 'never'}`);
        printRecords(v.records.map((r) => r.summary));
        return;
      }
      const r = await withVault(o, (c) => openIntoVault(c, bytes, { identityFile, passphrase: identityPassphrase(o), expectIssuer: o.expectIssuer }));
      if (o.json) return printJson(r);
      say(`VERIFIED and received${r.again ? ' (again: replaces the earlier copy)' : ''}:\n${grantText(r.grant)}`);
      say(`Compare the issuer's device key fingerprint with the one they gave you. Read a record with: custody received view ${r.grant.grantId} <record id>`);
      printRecords(r.records);
    });

  const received = program.command('received').description('disclosures received and opened here (read-only)');
  received
    .command('list')
    .description('every received grant: who, why, which days, until when')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      const r = await withVault(o, async (c) => listReceived(c));
      if (o.json) return printJson(r);
      if (r.length === 0) {
        say('Nothing received. Open a package with: custody open FILE.age');
        return;
      }
      say(r.map(grantText).join('\n\n'));
    });
  received
    .command('show <grant>')
    .description('a received grant and its records (none once it expired)')
    .action(async (grant: string, _o, cmd: Command) => {
      const o = opts(cmd);
      const r = await withVault(o, async (c) => showReceived(c, grant));
      if (o.json) return printJson(r);
      say(grantText(r.grant));
      if (!r.grant.expired) printRecords(r.records);
    });
  received
    .command('view <grant> <record>')
    .description('read a received record (audited, naming the grant)')
    .action(async (grant: string, record: string, _o, cmd: Command) => {
      const o = opts(cmd);
      const r = await withVault(o, (c) => viewReceivedRecord(c, grant, record));
      if (o.json) return printJson(r);
      const x = r.record;
      say(`${x.title}\n  id              ${x.id}\n  received in     grant ${r.grantId} (read-only)\n  case            ${x.case || '—'}\n  tags            ${x.tags.join(', ') || '—'}\n  classification  ${x.classification}\n  captured at     ${x.capturedAt}\n  version         ${x.version}`);
      for (const a of r.attachments) say(`  attachment      ${a.id}  ${a.name}  ${a.size} bytes  sha256 ${a.sha256}`);
      say(`  audit trail     ${r.audit.length} entries in the issuer's signed log\n\n${x.body}`);
    });
  received
    .command('attachment <grant> <attachment>')
    .description('decrypt a received attachment to a file (audited, naming the grant)')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (grant: string, attachment: string, _o, cmd: Command) => {
      const o = opts<{ out: string }>(cmd);
      const r = await withVault(o, (c) => openReceivedAttachment(c, grant, attachment, resolve(o.out)));
      if (o.json) return printJson(r);
      say(`wrote ${r.path} (${r.size} bytes, SHA-256 ${r.sha256})`);
    });

  program
    .command('ack <grant>')
    .description('sign an acknowledgement of a received grant (proof of delivery) for the issuer')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (grant: string, _o, cmd: Command) => {
      const o = opts<{ out: string }>(cmd);
      const r = await withVault(o, (c) => acknowledge(c, grant, resolve(o.out)));
      if (o.json) return printJson(r);
      say(`wrote ${r.path}: acknowledgement of grant ${r.grantId}, signed by this vault's device key (fingerprint ${r.reviewerFingerprint}); send it to the issuer (custody grants ack FILE)`);
    });

  const grants = program.command('grants').description('disclosures this vault issued');
  grants
    .command('list')
    .description('every grant issued, newest first')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      const r = await withVault(o, async (c) => listGrants(c));
      if (o.json) return printJson(r);
      if (r.length === 0) {
        say('No grant issued. Make one with: custody disclose …');
        return;
      }
      for (const g of r)
        say(`${g.grantId}  ${g.from}..${g.until}  ${g.scope === 'days' ? 'whole days' : 'records'}  ${g.records} records  to ${g.recipients.map((x) => x.fingerprint).join(', ')}  expires ${g.expiresAt ?? 'never'}${g.expired ? ' (expired)' : ''}  ${g.acknowledgements.length ? 'acknowledged' : 'not acknowledged'}`);
    });
  grants
    .command('show <grant>')
    .description('one grant: recipients, days, filters, purpose, hashes, acknowledgements')
    .action(async (grant: string, _o, cmd: Command) => {
      const o = opts(cmd);
      const g = await withVault(o, async (c) => showGrant(c, grant));
      if (o.json) return printJson(g);
      say(`grant ${g.grantId}${g.expired ? ' (expired)' : ''}\n  issued          ${g.createdAt}\n  expires         ${g.expiresAt ?? 'never'}\n  days            ${g.from} to ${g.until} (${g.scope === 'days' ? 'whole days' : 'selected records'}), ${g.records} records\n  filters         ${JSON.stringify(g.filters)}\n  purpose         ${g.purpose}`);
      for (const r of g.recipients) say(`  recipient       ${r.fingerprint}  ${r.recipient}`);
      say(`  package SHA-256 ${g.packageSha256}\n  grant SHA-256   ${g.grantSha256}`);
      for (const a of g.acknowledgements) say(`  acknowledged    ${a.acknowledgedAt} by ${a.reviewerKey} (imported ${a.importedAt})`);
      if (g.acknowledgements.length === 0) say('  acknowledged    not yet');
    });
  grants
    .command('ack <file>')
    .description("import a reviewer's acknowledgement of a grant (audited)")
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts(cmd);
      const note = readFileOr(resolve(file), 'acknowledgement').toString('utf8');
      const r = await withVault(o, (c) => importAcknowledgement(c, note));
      if (o.json) return printJson(r);
      say(`acknowledgement of grant ${r.grantId} verified and kept${r.again ? ' (already had it)' : ''}: signed ${r.acknowledgedAt} by vault ${r.reviewerVaultId}, device key fingerprint ${r.reviewerFingerprint}`);
    });
}
