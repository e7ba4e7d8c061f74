// `custody`: the command line over core. Errors go to stderr with a non-zero exit code.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CustodyError, isCustodyError } from '../shared/errors.ts';
import { CLASSIFICATIONS, FIELD_TYPES, RECORD_KINDS, type Field, type RecordPatch } from '../shared/records.ts';
import { Custody } from '../core/custody.ts';
import { defaultVaultDir } from '../core/vault/location.ts';
import { masterPassword, newPassword, recoveryKey } from './secrets.ts';
import { progressBar } from './progress.ts';
import { printAudit, printHistory, printJson, printRecord, printRecords } from './format.ts';
import { registerAuditCommands, VerifyFailed } from './auditCommands.ts';
import { registerReportCommands } from './reportCommands.ts';
import { registerSyncCommands } from './syncCommands.ts';
import { commandName } from './commandName.ts';

interface Globals {
  vault?: string;
  passwordFile?: string;
  json?: boolean;
}

/** Exit codes, documented in the README. */
const EXIT: Partial<Record<CustodyError['code'], number>> = { BAD_REQUEST: 2, IMPORT_FAILED: 2, WRONG_PASSWORD: 3, WRONG_RECOVERY_KEY: 3, TOO_MANY_ATTEMPTS: 3, NOT_FOUND: 4, VAULT_NOT_FOUND: 4, CONFLICT: 5, TAMPERED: 6, ROLLED_BACK: 6 };

export const vaultDir = (g: Globals): string => resolve(g.vault ?? process.env.CUSTODY_VAULT ?? defaultVaultDir());

/** The command this process runs (set before its action): it names the audit session. */
let runningCommand: string | undefined;

/**
 * Opens and unlocks the vault for one command, and always closes (and so locks) it. The command
 * is one audit session: its unlock entry names it, and no lock entry follows (Vault, command).
 */
export async function withVault<T>(g: Globals, fn: (c: Custody) => Promise<T>, opts: { unlock?: boolean } = {}): Promise<T> {
  const custody = await Custody.open(vaultDir(g), runningCommand ? { command: runningCommand } : {});
  try {
    if (opts.unlock !== false) await custody.unlock(await masterPassword(g), { buildIndex: false });
    return await fn(custody);
  } finally {
    await custody.close();
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** --field name:type=value, e.g. temperature:number=21.5, seen:date=2026-11-20, site:location=48.85,2.35,Paris */
export function parseFieldOption(spec: string): Field {
  const m = /^([^:=]+):([a-z]+)=(.*)$/s.exec(spec);
  if (!m || !FIELD_TYPES.includes(m[2] as Field['type'])) throw new CustodyError('BAD_REQUEST', `a --field option is malformed: use name:type=value with type ${FIELD_TYPES.join('|')}`);
  const [, name, type, raw] = m as unknown as [string, string, Field['type'], string];
  if (type === 'number') return { name, type, value: Number(raw) };
  if (type === 'location') {
    const [lat, lon, ...label] = raw.split(',');
    return { name, type, value: { lat: Number(lat), lon: Number(lon), ...(label.length ? { label: label.join(',') } : {}) } };
  }
  return { name, type, value: raw } as Field;
}

interface RecordOpts {
  kind?: string;
  title?: string;
  body?: string;
  bodyFile?: string;
  case?: string;
  tag?: string[];
  classification?: string;
  capturedAt?: string;
  field?: string[];
}

function recordFields(o: RecordOpts): RecordPatch {
  const body = o.bodyFile ? readFileSync(o.bodyFile, 'utf8') : o.body;
  return {
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(o.case !== undefined ? { case: o.case } : {}),
    ...(o.tag ? { tags: o.tag } : {}),
    ...(o.classification ? { classification: o.classification as RecordPatch['classification'] } : {}),
    ...(o.capturedAt ? { capturedAt: o.capturedAt } : {}),
    ...(o.field ? { fields: o.field.map(parseFieldOption) } : {}),
  };
}

const recordOptions = (cmd: Command) =>
  cmd
    .option('--title <text>', 'title')
    .option('--body <text>', 'body text')
    .option('--body-file <file>', 'read the body from a file')
    .option('--case <name>', 'case name')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .addOption(new Option('--classification <label>', 'classification label').choices([...CLASSIFICATIONS]))
    .option('--captured-at <iso>', 'when the material was collected (ISO 8601, default now)')
    .option('--field <name:type=value>', `a typed observation field (repeatable; type ${FIELD_TYPES.join('|')})`, collect);

export function buildProgram(): Command {
  const program = new Command('custody')
    .description('Custody: an encrypted evidence vault with a tamper-evident audit log')
    .option('--vault <dir>', 'vault directory (default: $CUSTODY_VAULT or the app-data folder)')
    .option('--password-file <file>', 'read the master password from a file (else $CUSTODY_PASSWORD, else a prompt)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) })
    .hook('preAction', (_program, action) => {
      runningCommand = commandName(action);
    });
  const g = <T = object>(cmd: Command) => cmd.optsWithGlobals() as Globals & T;

  program
    .command('init')
    .description('create a new vault and print its recovery key (shown once)')
    .option('--kdf-target-ms <ms>', 'calibrate Argon2id to take about this long here', (v) => Number(v))
    .option('--actor <name>', 'your name, as audit entries record it (default: your login name)')
    .option('--new-password-file <file>', 'read the new master password from a file')
    .action(async (_o, cmd: Command) => {
      const o = g<{ kdfTargetMs?: number; actor?: string; newPasswordFile?: string }>(cmd);
      const dir = vaultDir(o);
      const password = o.newPasswordFile || process.env.CUSTODY_NEW_PASSWORD ? await newPassword(o) : o.passwordFile || process.env.CUSTODY_PASSWORD ? await masterPassword(o) : await newPassword(o, 'Choose a master password');
      const r = await Custody.create(dir, { password, actor: o.actor, kdfTargetMs: o.kdfTargetMs });
      if (o.json) return printJson({ vaultId: r.vaultId, dir, recoveryKey: r.recoveryKey });
      process.stdout.write(
        `Created vault ${r.vaultId} in ${dir}\n\nRECOVERY KEY (shown only now; print it or store it offline):\n\n    ${r.recoveryKey}\n\n` +
          `With it you can reset a forgotten master password: custody recover\n`,
      );
    });

  program
    .command('unlock-check')
    .description('check that the password unlocks the vault')
    .action(async (_o, cmd: Command) => {
      const o = g(cmd);
      await withVault(o, async (c) => {
        const s = c.status();
        if (o.json) printJson({ ok: true, vaultId: s.vaultId, kdf: s.kdf });
        else process.stdout.write(`ok: the password unlocks vault ${s.vaultId}\n`);
      });
    });

  program
    .command('passwd')
    .description('change the master password (re-wraps the vault key only)')
    .option('--new-password-file <file>', 'read the new password from a file (else $CUSTODY_NEW_PASSWORD, else a prompt)')
    .action(async (_o, cmd: Command) => {
      const o = g<{ newPasswordFile?: string }>(cmd);
      await withVault(
        o,
        async (c) => {
          const old = await masterPassword(o);
          await c.changePassword(old, await newPassword(o));
          process.stdout.write('Master password changed.\n');
        },
        { unlock: false },
      );
    });

  program
    .command('recover')
    .description('set a new master password with the recovery key')
    .option('--recovery-key-file <file>', 'read the recovery key from a file (else $CUSTODY_RECOVERY_KEY, else a prompt)')
    .option('--new-password-file <file>', 'read the new password from a file')
    .action(async (_o, cmd: Command) => {
      const o = g<{ recoveryKeyFile?: string; newPasswordFile?: string }>(cmd);
      await withVault(
        o,
        async (c) => {
          await c.recover(await recoveryKey(o), await newPassword(o));
          process.stdout.write('Recovered: the vault now opens with the new master password.\n');
        },
        { unlock: false },
      );
    });

  recordOptions(
    program
      .command('add')
      .description('add a record and print its id')
      .addOption(new Option('--kind <kind>', 'record kind').choices([...RECORD_KINDS]).default('note'))
      .option('--attach <file>', 'attach a file (repeatable)', collect),
  ).action(async (_o, cmd: Command) => {
    const o = g<RecordOpts & { attach?: string[] }>(cmd);
    await withVault(o, async (c) => {
      const r = await c.createRecord({ kind: o.kind as 'note', ...recordFields(o), title: o.title ?? '' });
      for (const [i, file] of (o.attach ?? []).entries()) {
        // File names stay out of the output (it ends up in logs and terminals' scrollback).
        const bar = progressBar(`attach file ${i + 1}`, 'bytes');
        await c.addAttachment(r.id, file, bar.update).finally(bar.stop);
      }
      if (o.json) printJson({ id: r.id });
      else process.stdout.write(`${r.id}\n`);
    });
  });

  program
    .command('list')
    .description('list records, newest captured first')
    .addOption(new Option('--deleted <which>', 'deleted records').choices(['exclude', 'include', 'only']).default('exclude'))
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .action(async (_o, cmd: Command) => {
      const o = g<{ deleted: 'exclude'; limit: number }>(cmd);
      await withVault(o, async (c) => {
        const rows = await c.list({ deleted: o.deleted, limit: o.limit });
        if (o.json) printJson(rows);
        else printRecords(rows);
      });
    });

  program
    .command('show <id>')
    .description('show a record (recorded as a view in the audit log)')
    .action(async (id: string, _o, cmd: Command) => {
      const o = g(cmd);
      await withVault(o, async (c) => {
        const r = await c.getRecord(id);
        if (o.json) printJson(r);
        else printRecord(r);
      });
    });

  recordOptions(
    program
      .command('edit <id>')
      .description('edit a record; the previous version is kept in its history')
      .option('--version <n>', 'the version you are editing (rejected if the record changed since)', (v) => Number(v)),
  ).action(async (id: string, _o, cmd: Command) => {
    const o = g<RecordOpts & { version?: number }>(cmd);
    await withVault(o, async (c) => {
      const version = o.version ?? (await c.currentVersion(id));
      const r = await c.updateRecord(id, version, recordFields(o));
      if (o.json) printJson({ id: r.id, version: r.version });
      else process.stdout.write(`${r.id} is now at version ${r.version}\n`);
    });
  });

  for (const [name, description, run] of [
    ['rm', 'move a record to the trash', (c: Custody, id: string) => c.deleteRecord(id)],
    ['restore', 'restore a record from the trash', (c: Custody, id: string) => c.restoreRecord(id)],
  ] as const) {
    program
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string, _o, cmd: Command) => {
        const o = g(cmd);
        await withVault(o, async (c) => {
          const s = await run(c, id);
          if (o.json) printJson(s);
          else process.stdout.write(`${id} ${name === 'rm' ? 'moved to the trash' : 'restored'}\n`);
        });
      });
  }

  program
    .command('purge <id>')
    .description('delete a record from the trash for good, with its history and attachments')
    .option('--yes', 'do not ask for confirmation')
    .action(async (id: string, _o, cmd: Command) => {
      const o = g<{ yes?: boolean }>(cmd);
      if (!o.yes && !process.stdin.isTTY) throw new CustodyError('BAD_REQUEST', 'purge cannot be undone: pass --yes to confirm');
      if (!o.yes) {
        const { read } = await import('read');
        const answer = await read({ prompt: `Purge ${id} for good? Type "purge" to confirm: `, output: process.stderr });
        if (answer !== 'purge') throw new CustodyError('BAD_REQUEST', 'not confirmed; nothing was purged');
      }
      await withVault(o, async (c) => {
        await c.purgeRecord(id);
        if (o.json) printJson({ id, purged: true });
        else process.stdout.write(`${id} purged\n`);
      });
    });

  program
    .command('history <id>')
    .description("show every version of a record")
    .action(async (id: string, _o, cmd: Command) => {
      const o = g(cmd);
      await withVault(o, async (c) => {
        const v = await c.history(id);
        if (o.json) printJson(v);
        else printHistory(v);
      });
    });

  program
    .command('search [text...]')
    .description('full-text search over titles, bodies, fields and tags, with filters')
    .option('--case <name>', 'only this case')
    .option('--tag <tag>', 'only records with this tag')
    .addOption(new Option('--kind <kind>', 'only this kind').choices([...RECORD_KINDS]))
    .addOption(new Option('--classification <label>', 'only this classification').choices([...CLASSIFICATIONS]))
    .option('--from <iso>', 'captured at or after')
    .option('--to <iso>', 'captured at or before')
    .addOption(new Option('--deleted <which>', 'deleted records').choices(['exclude', 'include', 'only']).default('exclude'))
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .action(async (text: string[], _o, cmd: Command) => {
      const o = g<{ case?: string; tag?: string; kind?: 'note'; classification?: 'public'; from?: string; to?: string; deleted: 'exclude'; limit: number }>(cmd);
      await withVault(o, async (c) => {
        const r = await c.search({ text: text.join(' '), case: o.case, tag: o.tag, kind: o.kind, classification: o.classification, capturedFrom: o.from, capturedTo: o.to, deleted: o.deleted, limit: o.limit });
        if (o.json) printJson(r);
        else {
          printRecords(r.hits);
          if (r.total > r.hits.length) process.stdout.write(`(${r.total} matches; showing ${r.hits.length})\n`);
        }
      });
    });

  program
    .command('attach <id> <files...>')
    .description('encrypt files into the vault and attach them to a record')
    .action(async (id: string, files: string[], _o, cmd: Command) => {
      const o = g(cmd);
      await withVault(o, async (c) => {
        const added = [];
        for (const [i, file] of files.entries()) {
          // File names stay out of the output (it ends up in logs and terminals' scrollback).
          const bar = progressBar(`attach file ${i + 1}`, 'bytes');
          added.push(await c.addAttachment(id, file, bar.update).finally(bar.stop));
        }
        if (o.json) printJson(added);
        else for (const a of added) process.stdout.write(`${a.id}  ${a.size} bytes  sha256 ${a.sha256}\n`);
      });
    });

  program
    .command('extract <attachment-id>')
    .description('decrypt an attachment to a file (written only if it authenticates)')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (id: string, _o, cmd: Command) => {
      const o = g<{ out: string }>(cmd);
      await withVault(o, async (c) => {
        const bar = progressBar('extract', 'bytes');
        const a = await c.extractAttachment(id, resolve(o.out), { onProgress: bar.update }).finally(bar.stop);
        if (o.json) printJson(a);
        else process.stdout.write(`wrote ${a.path} (${a.size} bytes, sha256 ${a.sha256})\n`);
      });
    });

  program
    .command('import <file>')
    .description('import records from JSON or CSV (all or nothing per file)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['json', 'csv']))
    .action(async (file: string, _o, cmd: Command) => {
      const o = g<{ format?: 'json' | 'csv' }>(cmd);
      await withVault(o, async (c) => {
        const bar = progressBar('import');
        const r = await c.importFile(file, { format: o.format, onProgress: bar.update }).finally(bar.stop);
        if (o.json) printJson(r);
        else process.stdout.write(`imported ${r.imported} records\n`);
      });
    });

  registerAuditCommands(program, { withVault, printAudit, printJson });
  registerReportCommands(program, { withVault, printJson });
  registerSyncCommands(program, { withVault, printJson, vaultDir });
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Every command, not only the root: a subcommand's usage error (a bad option value, a
  // missing argument) is bad input too, exit 2, and never a process.exit from inside commander.
  const overrideExit = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(overrideExit);
  };
  overrideExit(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return err.exitCode === 0 ? 0 : 2;
    if (e instanceof VerifyFailed) return e.exitCode;
    if (isCustodyError(e)) {
      process.stderr.write(`custody: ${e.message}\n`);
      return EXIT[e.code] ?? 1;
    }
    process.stderr.write(`custody: unexpected error: ${(e as Error).message}\n`);
    return 1;
  }
}
