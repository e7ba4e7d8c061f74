// `custody identity | recipients | policy`: the reviewer identity, the address book and the
// sharing policies (docs/sharing.md). Disclosing and opening packages are in their own file.
import type { Command } from 'commander';
import { read } from 'read';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CustodyError } from '../shared/errors.ts';
import { fromFile } from './secrets.ts';
import { CLASSIFICATIONS } from '../shared/records.ts';
import { DEFAULT_SHARING_POLICY, POLICY_LABELS, type PolicyName, type SharingPolicy } from '../shared/sharing.ts';
import { createVaultIdentity, showVaultIdentity, writeIdentityFile } from '../core/sharing/identity.ts';
import { addRecipient, listRecipients, removeRecipient } from '../core/sharing/recipients.ts';
import { getPolicy, setPolicy } from '../core/sharing/policy.ts';
import { listEnvelopes, openEnvelope, publishIdentity, sendPackage, withDelivery, withdrawEnvelope, type EnvelopeView } from '../core/sharing/delivery.ts';
import { openIntoVault } from '../core/sharing/received.ts';
import { printJson } from './format.ts';
import { collect, opts, withVault } from './globals.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);
const warn = (s: string) => process.stderr.write(`custody: warning: ${s}\n`);

/**
 * The passphrase of a new identity file: --passphrase-file, else CUSTODY_IDENTITY_PASSPHRASE,
 * else asked twice on the terminal (never echoed).
 */
async function newIdentityPassphrase(o: { passphraseFile?: string }): Promise<string> {
  if (o.passphraseFile) {
    return fromFile(o.passphraseFile, 'passphrase');
  }
  if (process.env.CUSTODY_IDENTITY_PASSPHRASE) return process.env.CUSTODY_IDENTITY_PASSPHRASE;
  if (!process.stdin.isTTY) throw new CustodyError('BAD_REQUEST', 'a passphrase is needed for the identity file: pass --passphrase-file FILE, set CUSTODY_IDENTITY_PASSPHRASE, or --plain for an unprotected file');
  const ask = (prompt: string) => read({ prompt, silent: true, replace: '', output: process.stderr });
  const a = await ask('Passphrase for the identity file: ');
  const b = await ask('Passphrase (again): ');
  if (a !== b) throw new CustodyError('BAD_REQUEST', 'the two passphrases differ; no file was written');
  return a;
}

function printIdentity(json: boolean | undefined, i: { recipient: string; fingerprint: string; createdAt?: string }, lead: string): void {
  if (json) return printJson(i);
  say(`${lead}\n\nRecipient (give this to whoever sends you a disclosure):\n\n${i.recipient}\n\nFingerprint (read it to them to check): ${i.fingerprint}`);
}

const onOff = (v: string): boolean => {
  if (/^(on|yes|true)$/i.test(v)) return true;
  if (/^(off|no|false)$/i.test(v)) return false;
  throw new CustodyError('BAD_REQUEST', `"${v}" is not on or off`);
};
// Commander stores a parser's null as the raw text, so "no limit" travels as 'none'.
const daysOrNone = (v: string): number | 'none' => {
  if (/^(none|off)$/i.test(v)) return 'none';
  if (!/^\d{1,5}$/.test(v)) throw new CustodyError('BAD_REQUEST', `"${v}" is not a number of days (or none)`);
  return Number(v);
};
const levelOrNone = (v: string): NonNullable<SharingPolicy['maxClassification']> | 'none' => {
  if (/^(none|off)$/i.test(v)) return 'none';
  if (!(CLASSIFICATIONS as readonly string[]).includes(v)) throw new CustodyError('BAD_REQUEST', `"${v}" is not a classification (${CLASSIFICATIONS.join(', ')}, or none)`);
  return v as NonNullable<SharingPolicy['maxClassification']>;
};

const none = <T>(v: T | 'none'): T | null => (v === 'none' ? null : v);

const policyValue = (k: PolicyName, v: SharingPolicy[PolicyName]): string => (v === null ? 'no limit' : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v));

export function registerSharingCommands(program: Command): void {
  const identity = program.command('identity').description("this vault's reviewer identity (age, post-quantum), or a stand-alone identity file");
  identity
    .command('new')
    .description("create this vault's reviewer identity; with --out, a stand-alone identity file for a reviewer without a vault")
    .option('--replace', 'replace the existing identity (the old one is retired and still opens what was sent to it)')
    .option('--out <file>', 'write a stand-alone identity file instead (needs no vault)')
    .option('--plain', 'with --out: do not protect the file with a passphrase')
    .option('--passphrase-file <file>', 'with --out: read the passphrase from a file (else $CUSTODY_IDENTITY_PASSPHRASE, else a prompt)')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ replace?: boolean; out?: string; plain?: boolean; passphraseFile?: string }>(cmd);
      if (o.out) {
        if (o.replace) throw new CustodyError('BAD_REQUEST', '--replace is for the vault identity, not for --out');
        const path = resolve(o.out);
        const made = await writeIdentityFile(path, o.plain ? null : await newIdentityPassphrase(o));
        if (!made.encrypted) warn('the identity file is not protected by a passphrase: keep it where only you can read it');
        return printIdentity(o.json, { recipient: made.recipient, fingerprint: made.fingerprint }, `Wrote the identity file ${path}${made.encrypted ? ' (protected by your passphrase)' : ''}.`);
      }
      if (o.plain || o.passphraseFile) throw new CustodyError('BAD_REQUEST', '--plain and --passphrase-file go with --out');
      await withVault(o, async (c) => {
        const made = await createVaultIdentity(c, { replace: o.replace });
        printIdentity(o.json, made, o.replace ? 'Created a new reviewer identity for this vault (the previous one is retired).' : 'Created the reviewer identity of this vault.');
      });
    });
  identity
    .command('show')
    .description("print this vault's recipient (age1pq1…) and its fingerprint")
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const i = await showVaultIdentity(c);
        if (!i) throw new CustodyError('NOT_FOUND', 'this vault has no reviewer identity yet; create it with: custody identity new');
        printIdentity(o.json, { recipient: i.recipient, fingerprint: i.fingerprint, createdAt: i.createdAt }, `Reviewer identity of this vault (created ${i.createdAt}).`);
      });
    });

  const recipients = program.command('recipients').description("the address book of reviewers' age recipients");
  recipients
    .command('add <name> <recipient>')
    .description('add a recipient (age1pq1…) under a name')
    .option('--note <text>', 'a note (sealed like the name)')
    .option('--allow-classical', 'accept a classical X25519 recipient (age1…), which is not post-quantum')
    .action(async (name: string, recipient: string, _o, cmd: Command) => {
      const o = opts<{ note?: string; allowClassical?: boolean }>(cmd);
      await withVault(o, async (c) => {
        const { entry, warning } = await addRecipient(c, { name, recipient, note: o.note, allowClassical: o.allowClassical });
        if (warning) warn(warning);
        if (o.json) return printJson(entry);
        say(`Added "${entry.name}" (fingerprint ${entry.fingerprint}${entry.type === 'hybrid' ? ', post-quantum' : ', classical X25519'}).`);
      });
    });
  recipients
    .command('list')
    .description('list the address book')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const all = await listRecipients(c);
        if (o.json) return printJson(all);
        if (all.length === 0) return say('The address book is empty. Add someone with: custody recipients add NAME age1pq1…');
        for (const r of all) say(`${r.name}\n  fingerprint  ${r.fingerprint}\n  type         ${r.type === 'hybrid' ? 'post-quantum (mlkem768x25519)' : 'classical X25519 (not post-quantum)'}\n  added        ${r.createdAt}${r.note ? `\n  note         ${r.note}` : ''}`);
      });
    });
  recipients
    .command('remove <name>')
    .description('remove a recipient (by name or fingerprint)')
    .action(async (name: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const gone = await removeRecipient(c, name);
        if (o.json) return printJson({ removed: gone.id, fingerprint: gone.fingerprint });
        say(`Removed "${gone.name}" (fingerprint ${gone.fingerprint}).`);
      });
    });

  const policy = program.command('policy').description('sharing policies: what a disclosure may carry');
  policy
    .command('show')
    .description('print the sharing policies in force')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const p = await getPolicy(c);
        if (o.json) return printJson(p);
        for (const k of Object.keys(DEFAULT_SHARING_POLICY) as PolicyName[]) say(`${POLICY_LABELS[k].padEnd(40)} ${policyValue(k, p[k])}`);
      });
    });
  policy
    .command('set')
    .description('change sharing policies (each change is audited)')
    .option('--purpose-required <on|off>', 'a disclosure must state its purpose', onOff)
    .option('--address-book-only <on|off>', 'recipients only from the address book', onOff)
    .option('--max-range-days <n|none>', 'at most this many days per disclosure', daysOrNone)
    .option('--max-classification <level|none>', `nothing above this level leaves (${CLASSIFICATIONS.join(', ')})`, levelOrNone)
    .option('--max-expiry-days <n|none>', 'a disclosure must expire within this many days', daysOrNone)
    .option('--attachments <on|off>', 'attachments may be disclosed', onOff)
    .action(async (_o, cmd: Command) => {
      const o = opts<{ purposeRequired?: boolean; addressBookOnly?: boolean; maxRangeDays?: number | 'none'; maxClassification?: NonNullable<SharingPolicy['maxClassification']> | 'none'; maxExpiryDays?: number | 'none'; attachments?: boolean }>(cmd);
      const patch: Partial<SharingPolicy> = {
        ...(o.purposeRequired !== undefined ? { purposeRequired: o.purposeRequired } : {}),
        ...(o.addressBookOnly !== undefined ? { addressBookOnly: o.addressBookOnly } : {}),
        ...(o.maxRangeDays !== undefined ? { maxRangeDays: none(o.maxRangeDays) } : {}),
        ...(o.maxClassification !== undefined ? { maxClassification: none(o.maxClassification) } : {}),
        ...(o.maxExpiryDays !== undefined ? { maxExpiryDays: none(o.maxExpiryDays) } : {}),
        ...(o.attachments !== undefined ? { attachmentsAllowed: o.attachments } : {}),
      };
      if (Object.keys(patch).length === 0) throw new CustodyError('BAD_REQUEST', 'nothing to set: give at least one policy option (custody policy set --help)');
      await withVault(o, async (c) => {
        const r = await setPolicy(c, patch);
        if (o.json) return printJson(r);
        say(r.changed.length ? `Changed: ${r.changed.map((k) => `${POLICY_LABELS[k]} = ${policyValue(k, r.policy[k])}`).join('; ')}.` : 'Nothing changed.');
      });
    });

  const envelopes = program.command('envelopes').description('disclosure packages delivered through the sync server');
  envelopes
    .command('publish')
    .description("publish this vault's recipient on the sync server, so others can deliver to you there")
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const r = await withDelivery(c, (s) => publishIdentity(c, s));
        if (o.json) return printJson(r);
        say(r.published ? `Published your recipient (fingerprint ${r.fingerprint}) on the sync server.` : `Your recipient (fingerprint ${r.fingerprint}) was already published.`);
      });
    });
  envelopes
    .command('send <file>')
    .description('deliver a disclosure package this vault issued to its recipients through the sync server')
    .option('--to <fingerprint>', 'only this recipient of the grant; repeatable', collect)
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts<{ to?: string[] }>(cmd);
      let pkg: Buffer;
      try {
        pkg = readFileSync(resolve(file));
      } catch {
        throw new CustodyError('NOT_FOUND', `cannot read ${file}`);
      }
      const r = await withVault(o, (c) => withDelivery(c, (s) => sendPackage(c, s, pkg, o.to)));
      if (o.json) return printJson(r);
      for (const e of r.envelopes) say(`Envelope ${e.id} waits for ${e.fingerprint} (grant ${r.grantId}).`);
    });
  envelopes
    .command('list')
    .description('envelopes waiting for you (--sent: those you sent, with their status and when they were opened)')
    .option('--sent', 'list the envelopes you sent')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ sent?: boolean }>(cmd);
      await withVault(o, async (c) => {
        const all = await withDelivery(c, (s) => listEnvelopes(c, s, o.sent ? 'sent' : 'inbox'));
        if (o.json) return printJson(all);
        if (all.length === 0) return say(o.sent ? 'You have sent no envelopes through this server.' : 'No envelopes wait for you.');
        for (const e of all) say(envelopeText(e));
      });
    });
  envelopes
    .command('open <id>')
    .description('fetch an envelope, then verify it and open it into the received area (as "custody open" does)')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts(cmd);
      const r = await withVault(o, (c) => withDelivery(c, (s) => openEnvelope(c, s, id, (pkg) => openIntoVault(c, pkg))));
      if (o.json) return printJson(r);
      say(`Opened envelope ${id}: grant ${r.grant.grantId}, ${r.records.length} records (see "custody received show ${r.grant.grantId}").`);
    });
  envelopes
    .command('withdraw <id>')
    .description('withdraw an envelope you sent, if its recipient has not opened it yet')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, (c) => withDelivery(c, (s) => withdrawEnvelope(c, s, id)));
      if (o.json) return printJson({ withdrawn: id });
      say(`Withdrew envelope ${id}: its recipient can no longer fetch it.`);
    });
}

function envelopeText(e: EnvelopeView): string {
  const who = e.direction === 'sent' ? `to ${e.recipientRole} (${e.recipientFingerprint})` : `from ${e.issuer}`;
  return [
    `${e.id}  ${e.status.toUpperCase()}  ${who}`,
    `  sent ${e.createdAt}, expires ${e.expiresAt ?? 'never'}, ${e.size} bytes, SHA-256 ${e.packageSha256}`,
    ...(e.openedAt ? [`  opened ${e.openedAt}`] : []),
    ...e.openAttempts.filter((a) => !a.success).map((a) => `  failed opening by ${a.actor} at ${a.at}`),
  ].join('\n');
}
