// `custody audit ...`: query, statistics, failures (verification and proofs are added by the
// tamper-evident log module).
import { Command, Option } from 'commander';
import type { AuditRow } from '../shared/audit.ts';
import type { Custody } from '../core/custody.ts';

interface Helpers {
  withVault: <T>(g: { vault?: string; passwordFile?: string }, fn: (c: Custody) => Promise<T>, opts?: { unlock?: boolean }) => Promise<T>;
  printAudit: (rows: AuditRow[]) => void;
  printJson: (v: unknown) => void;
}

export function registerAuditCommands(program: Command, h: Helpers): Command {
  const audit = program.command('audit').description('the tamper-evident audit log');
  const g = <T = object>(cmd: Command) => cmd.optsWithGlobals() as { vault?: string; passwordFile?: string; json?: boolean } & T;

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
      const rows = await h.withVault(o, (c) =>
        c.auditQuery({ from: o.from, to: o.to, event: o.event, actor: o.actor, target: o.target, success: o.failed ? false : o.succeeded ? true : undefined, limit: o.limit, before: o.before, order: o.asc ? 'asc' : 'desc' }),
      { unlock: false });
      if (o.json) h.printJson(rows);
      else h.printAudit(rows);
    });

  audit
    .command('stats')
    .description('totals by event type and by day, and the success rate')
    .option('--from <iso>', 'at or after this time')
    .option('--to <iso>', 'at or before this time')
    .action(async (_o, cmd: Command) => {
      const o = g<{ from?: string; to?: string }>(cmd);
      const s = await h.withVault(o, async (c) => c.auditStats({ from: o.from, to: o.to }), { unlock: false });
      if (o.json) return h.printJson(s);
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
      const rows = await h.withVault(o, (c) => c.auditFailures(o.limit), { unlock: false });
      if (o.json) h.printJson(rows);
      else h.printAudit(rows);
    });

  return audit;
}
