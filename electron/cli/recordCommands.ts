// `custody add | list | show | edit | rm | restore | purge | history | search | import`: records.
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CustodyError } from '../shared/errors.ts';
import { CLASSIFICATIONS, FIELD_TYPES, RECORD_KINDS, type Field, type RecordPatch } from '../shared/records.ts';
import type { Custody } from '../core/custody.ts';
import { progressBar } from './progress.ts';
import { printHistory, printJson, printRecord, printRecords } from './format.ts';
import { collect, opts, withVault } from './globals.ts';
import { isBackupArgument, withBackupRestoreOptions } from './backupOptions.ts';

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

export interface RecordOpts {
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

export function recordFields(o: RecordOpts): RecordPatch {
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

export const recordOptions = (cmd: Command) =>
  cmd
    .option('--title <text>', 'title')
    .option('--body <text>', 'body text')
    .option('--body-file <file>', 'read the body from a file')
    .option('--case <name>', 'case name')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .addOption(new Option('--classification <label>', 'classification label').choices([...CLASSIFICATIONS]))
    .option('--captured-at <iso>', 'when the material was collected (ISO 8601, default now)')
    .option('--field <name:type=value>', `a typed observation field (repeatable; type ${FIELD_TYPES.join('|')})`, collect);

export function registerRecordCommands(program: Command): void {
  recordOptions(
    program
      .command('add')
      .description('add a record and print its id')
      .addOption(new Option('--kind <kind>', 'record kind').choices([...RECORD_KINDS]).default('note'))
      .option('--attach <file>', 'attach a file (repeatable)', collect),
  ).action(async (_o, cmd: Command) => {
    const o = opts<RecordOpts & { attach?: string[] }>(cmd);
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
      const o = opts<{ deleted: 'exclude'; limit: number }>(cmd);
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
      const o = opts(cmd);
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
    const o = opts<RecordOpts & { version?: number }>(cmd);
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
    const command = program
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string, _o, cmd: Command) => {
        // `custody restore FILE --vault DIR` restores a backup (backupCommands.ts).
        if (name === 'restore' && isBackupArgument(id)) return (await import('./backupCommands.ts')).restoreFromBackup(id, cmd);
        const o = opts(cmd);
        await withVault(o, async (c) => {
          const s = await run(c, id);
          if (o.json) printJson(s);
          else process.stdout.write(`${id} ${name === 'rm' ? 'moved to the trash' : 'restored'}\n`);
        });
      });
    if (name === 'restore') withBackupRestoreOptions(command);
  }

  program
    .command('purge <id>')
    .description('delete a record from the trash for good, with its history and attachments')
    .option('--yes', 'do not ask for confirmation')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts<{ yes?: boolean }>(cmd);
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
      const o = opts(cmd);
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
      const o = opts<{ case?: string; tag?: string; kind?: 'note'; classification?: 'public'; from?: string; to?: string; deleted: 'exclude'; limit: number }>(cmd);
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
    .command('import <file>')
    .description('import records from JSON or CSV (all or nothing per file)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['json', 'csv']))
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts<{ format?: 'json' | 'csv' }>(cmd);
      await withVault(o, async (c) => {
        const bar = progressBar('import');
        const r = await c.importFile(file, { format: o.format, onProgress: bar.update }).finally(bar.stop);
        if (o.json) printJson(r);
        else process.stdout.write(`imported ${r.imported} records\n`);
      });
    });
}
