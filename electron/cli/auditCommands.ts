// `custody audit ...`: query, statistics, failures (verification and proofs are added by the
// tamper-evident log module).
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { AuditVerification } from '../shared/contract.ts';
import { CustodyError } from '../shared/errors.ts';
import { consistencyProof, exportCanonical, inclusionProof } from '../core/audit/proofs.ts';
import { pruneAuditBodies, setRetentionPolicy } from '../core/audit/retention.ts';
import { vkeyFingerprint } from '../core/audit/vkeyFingerprint.ts';
import { progressBar } from './progress.ts';
import { printAudit, printJson } from './format.ts';
import { opts, withVault } from './globals.ts';


export function registerAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('the tamper-evident audit log');
  const g = opts;

  audit
    .command('list')
    .description('list audit entries, newest first')
    .option('--from <iso>', 'at or after this time')
    .option('--to <iso>', 'at or before this time')
    .option('--event <type>', 'event type (a prefix ending in "." matches a family, e.g. "record.")')
    .option('--actor <name>', 'who')
    .option('--target <target>', 'what, e.g. record:<id>')
    .addOption(new Option('--failed', 'only failed operations').conflicts('succeeded'))
    .option('--succeeded', 'only successful operations')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--before <seq>', 'entries before this sequence number (paging)', (v) => Number(v))
    .option('--asc', 'oldest first')
    .action(async (_o, cmd: Command) => {
      const o = g<{ from?: string; to?: string; event?: string; actor?: string; target?: string; failed?: boolean; succeeded?: boolean; limit: number; before?: number; asc?: boolean }>(cmd);
      const rows = await withVault(o, (c) =>
        c.auditQuery({ from: o.from, to: o.to, event: o.event, actor: o.actor, target: o.target, success: o.failed ? false : o.succeeded ? true : undefined, limit: o.limit, before: o.before, order: o.asc ? 'asc' : 'desc' }),
      { unlock: false });
      if (o.json) printJson(rows);
      else printAudit(rows);
    });

  audit
    .command('stats')
    .description('totals by event type and by day, and the success rate')
    .option('--from <iso>', 'at or after this time')
    .option('--to <iso>', 'at or before this time')
    .action(async (_o, cmd: Command) => {
      const o = g<{ from?: string; to?: string }>(cmd);
      const s = await withVault(o, async (c) => c.auditStats({ from: o.from, to: o.to }), { unlock: false });
      if (o.json) return printJson(s);
      const lines = [`entries: ${s.total} (${s.pruned} pruned)`, `success rate: ${(s.successRate * 100).toFixed(1)}%`, '', 'by event:'];
      for (const [e, n] of Object.entries(s.byEvent).sort((a, b) => b[1] - a[1])) lines.push(`  ${e.padEnd(28)} ${n}`);
      lines.push('', 'by day:');
      const max = Math.max(1, ...s.byDay.map((d) => d.total));
      for (const d of s.byDay) lines.push(`  ${d.day}  ${'#'.repeat(Math.ceil((d.total / max) * 40)).padEnd(40)} ${d.total}`);
      process.stdout.write(lines.join('\n') + '\n');
    });

  audit
    .command('failures')
    .description('the most recent failed operations')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
    .action(async (_o, cmd: Command) => {
      const o = g<{ limit: number }>(cmd);
      const rows = await withVault(o, (c) => c.auditFailures(o.limit), { unlock: false });
      if (o.json) printJson(rows);
      else printAudit(rows);
    });

  audit
    .command('verify')
    .description('recompute the whole log and check every signed checkpoint; exit 0 only if all holds')
    .option('--vkey <file>', 'trust only this verifier key (one saved earlier with `custody audit vkey`): a log re-signed with another key fails')
    .option('--unlock', 'unlock first (password needed): trust only device keys the vault key attests')
    .action(async (_o, cmd: Command) => {
      const o = g<{ vkey?: string; unlock?: boolean }>(cmd);
      const vkey = o.vkey === undefined ? undefined : readVkeyFile(o.vkey);
      const bar = progressBar('verify');
      const r = await withVault(o, (c) => c.verifyAudit(bar.update, { vkey }), { unlock: o.unlock === true }).finally(bar.stop);
      if (o.json) printJson(r);
      else {
        process.stdout.write(r.ok ? `OK: ${r.entries} entries, ${r.checkpoints} signed checkpoints, nothing changed, removed, inserted or reordered\n` : `FAILED: ${r.problems.length} problem(s) in ${r.entries} entries\n`);
        // One line per cause; the checkpoints it breaks are counted, not listed.
        for (const p of r.problems) process.stdout.write(`  ${p.seq !== undefined ? `entry ${p.seq}: ` : ''}${p.message} [${p.kind}]${p.affectedCheckpoints ? `; affects ${p.affectedCheckpoints} checkpoint${p.affectedCheckpoints === 1 ? '' : 's'}` : ''}\n`);
        if (r.unsignedTail) process.stdout.write(`  note: the last ${r.unsignedTail} entries are not yet covered by a signed checkpoint (one is signed at the next unlock)\n`);
        if (r.trust) process.stdout.write(trustText(r.trust));
      }
      if (!r.ok) throw new VerifyFailed();
    });

  audit
    .command('checkpoint')
    .description('print the newest signed checkpoint exactly as stored (a C2SP signed note)')
    .action(async (_o, cmd: Command) => {
      const note = await withVault(g(cmd), async (c) => c.vault.checkpoints.latest()?.note, { unlock: false });
      if (!note) throw new CustodyError('NOT_FOUND', 'the log has no signed checkpoint yet');
      process.stdout.write(note);
    });

  audit
    .command('vkey')
    .description("print this device's verifier key in signed-note vkey form (name+keyid+base64): give it to whoever verifies your reports (custody verify --vkey)")
    .option('--fingerprint', "print the key's fingerprint instead (the one custody verify and custody audit verify show), to compare by reading it aloud")
    .action(async (_o, cmd: Command) => {
      const o = g<{ fingerprint?: boolean }>(cmd);
      const vkey = await withVault(o, async (c) => c.vault.checkpoints.vkey, { unlock: false });
      if (o.json) printJson({ vkey, fingerprint: vkeyFingerprint(vkey) });
      else process.stdout.write((o.fingerprint ? vkeyFingerprint(vkey) : vkey) + '\n');
    });

  audit
    .command('export')
    .description("print every entry's canonical bytes, one per line, in log order (the leaves' input)")
    .action(async (_o, cmd: Command) => {
      await withVault(g(cmd), async (c) => {
        for (const line of exportCanonical(c.vault)) if (!process.stdout.write(line + '\n')) await new Promise((r) => process.stdout.once('drain', r));
      }, { unlock: false });
    });

  audit
    .command('proof <seq>')
    .description('print a C2SP tlog-proof of entry SEQ against the newest signed checkpoint')
    .action(async (seq: string, _o, cmd: Command) => {
      process.stdout.write(await withVault(g(cmd), async (c) => inclusionProof(c.vault, Number(seq)), { unlock: false }));
    });

  audit
    .command('consistency <old-size>')
    .description('print a consistency proof from the log at OLD-SIZE to the newest signed checkpoint, then that checkpoint')
    .action(async (oldSize: string, _o, cmd: Command) => {
      const r = await withVault(g(cmd), async (c) => consistencyProof(c.vault, Number(oldSize)), { unlock: false });
      process.stdout.write(r.proof + '\n' + r.checkpoint);
    });

  audit
    .command('prune')
    .description('retention: remove entry bodies older than the policy (default 7 years), keeping their hashes')
    .option('--older-than-days <n>', 'override the policy for this run', (v) => Number(v))
    .action(async (_o, cmd: Command) => {
      const o = g<{ olderThanDays?: number }>(cmd);
      const r = await withVault(o, (c) => pruneAuditBodies(c.vault, { olderThanDays: o.olderThanDays }));
      if (o.json) printJson(r);
      else process.stdout.write(`pruned ${r.pruned} entry bodies older than ${r.cutoff}: no entry before ${r.prunedBelowSeq} keeps its body, their hashes remain in the log; the run is entry ${r.retentionSeq}\n`);
    });

  audit
    .command('retention [days]')
    .description('show, or set, how many days entry bodies are kept before `audit prune` removes them')
    .action(async (days: string | undefined, _o, cmd: Command) => {
      const o = g(cmd);
      const policy = await withVault(o, async (c) => {
        if (days !== undefined) await setRetentionPolicy(c.vault, Number(days));
        return c.vault.meta.retentionDays;
      }, { unlock: days !== undefined });
      if (o.json) printJson({ retentionDays: policy });
      else process.stdout.write(`entry bodies are kept ${policy} days (${(policy / 365).toFixed(1)} years); their hashes are kept for good\n`);
    });

  return audit;
}

function readVkeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw new CustodyError('NOT_FOUND', `cannot read the verifier key file ${path}`);
  }
}

/** Which key the checkpoints were checked against, and what that trust rests on. */
function trustText(t: NonNullable<AuditVerification['trust']>): string {
  const keys = t.keys.map((k) => `${k.fingerprint} (${k.vkey})`).join(', ');
  if (t.basis === 'attested') return `  signing key: ${keys}, attested by the vault key\n`;
  if (t.basis === 'pinned') return `  signing key: ${keys}, the key you pinned with --vkey\n`;
  return (
    `  signing key: ${keys}, read from the vault's key registry. The vault is locked, so nothing proved it is the vault's own key:\n` +
    `  someone able to write this folder could have re-signed the log with a key of theirs. Compare this fingerprint with one you saved\n` +
    `  earlier, or pin that key (custody audit vkey > device.vkey on a copy you trust, then custody audit verify --vkey device.vkey),\n` +
    `  or check it against the vault key with the password: custody audit verify --unlock\n`
  );
}

/** Verification failed: the report was printed; exit non-zero without another message. */
export class VerifyFailed extends Error {
  readonly exitCode = 1;
}
