// `custody attach | extract`: files encrypted into the vault.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { progressBar } from './progress.ts';
import { printJson } from './format.ts';
import { opts, withVault } from './globals.ts';

export function registerAttachmentCommands(program: Command): void {
  program
    .command('attach <id> <files...>')
    .description('encrypt files into the vault and attach them to a record')
    .action(async (id: string, files: string[], _o, cmd: Command) => {
      const o = opts(cmd);
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
      const o = opts<{ out: string }>(cmd);
      await withVault(o, async (c) => {
        const bar = progressBar('extract', 'bytes');
        const a = await c.extractAttachment(id, resolve(o.out), { onProgress: bar.update }).finally(bar.stop);
        if (o.json) printJson(a);
        else process.stdout.write(`wrote ${a.path} (${a.size} bytes, sha256 ${a.sha256})\n`);
      });
    });
}
