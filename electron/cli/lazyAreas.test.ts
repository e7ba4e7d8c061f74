// main.ts loads only the area of the command a process runs (the everyday record commands), and
// every area when the command is another one or help is asked: no command may go missing.
import { expect, test } from 'vitest';
import { buildProgram, commandWord } from './main.ts';

const names = (p: Awaited<ReturnType<typeof buildProgram>>) => p.commands.map((c) => c.name());

test('the command word is found after the global options', () => {
  expect(commandWord(['node', 'custody', 'add', '--title', 'x'])).toBe('add');
  expect(commandWord(['node', 'custody', '--vault', 'dir', '--json', 'list'])).toBe('list');
  expect(commandWord(['node', 'custody', '--vault=dir', '--password-file', 'add', 'show', 'id'])).toBe('show');
  expect(commandWord(['node', 'custody', '--help'])).toBeUndefined();
  expect(commandWord(['node', 'custody'])).toBeUndefined();
});

test('an everyday command loads its own area only; any other command or help loads all of them', async () => {
  const all = names(await buildProgram(['node', 'custody', '--help']));
  for (const area of ['add', 'list', 'restore', 'audit', 'report', 'sync', 'backup', 'keys', 'status']) expect(all).toContain(area);
  // Another command, an unknown one and no command at all: the same full program.
  expect(names(await buildProgram(['node', 'custody', 'audit', 'verify']))).toEqual(all);
  expect(names(await buildProgram(['node', 'custody', 'no-such-command']))).toEqual(all);
  expect(names(await buildProgram(['node', 'custody']))).toEqual(all);

  const add = names(await buildProgram(['node', 'custody', '--vault', 'v', 'add', '--title', 't']));
  expect(add).toContain('add');
  expect(add).toContain('restore');
  expect(add).not.toContain('sync');
  expect(add.every((n) => all.includes(n))).toBe(true);
  // `restore` is a record command and a backup one (restore FILE): it loads everything.
  expect(names(await buildProgram(['node', 'custody', 'restore', 'x']))).toEqual(all);
});
