// A bad import exits 2 (bad input, as the exit-code table says), names the problem on
// stderr, and imports nothing; the real CLI against a real vault.
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

let root: string;
let vault: string;
const env = { CUSTODY_PASSWORD: 'import exit test password' };

beforeAll(() => {
  root = tempDir('custody-import-exit-');
  vault = join(root, 'vault');
  expect(cli(vault, ['init', '--kdf-target-ms', '200', '--actor', 'Ana Analyst'], env).status).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = (name: string, content: string): string => {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
};
const recordCount = () => (JSON.parse(cli(vault, ['list', '--json'], env).stdout) as unknown[]).length;

describe('custody import with bad input', { timeout: 240_000 }, () => {
  test.each([
    ['JSON that does not parse', () => ['import', file('broken.json', '[{"kind": "note", "title": ')], /not valid JSON/],
    ['a JSON document that is not a list of records', () => ['import', file('object.json', '{"title": "x"}')], /an array of records/],
    ['a record that fails validation (all or nothing)', () => ['import', file('kind.json', '[{"kind":"note","title":"fine"},{"kind":"memo","title":"x"}]')], /record 2, field kind.*nothing was imported/],
    ['a CSV with an unclosed quote', () => ['import', file('quote.csv', 'title,body\n"never closed,x\n')], /quoted cell is never closed/],
    ['a CSV header with an unknown column', () => ['import', file('header.csv', 'title,colour\nx,red\n')], /not a known column/],
    ['an unknown --format', () => ['import', file('any.json', '[]'), '--format', 'xml'], /argument 'xml' is invalid/],
    ['no file argument', () => ['import'], /missing required argument/],
  ])('%s: exit 2, the reason on stderr, nothing imported', (_what, args, reason) => {
    const r = cli(vault, args(), env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stdout).toBe('');
    expect(recordCount()).toBe(0);
  });

  test('a good import still exits 0; a missing file is "not found" (4)', () => {
    expect(cli(vault, ['import', file('good.json', '[{"kind":"note","title":"fine"}]')], env)).toMatchObject({ status: 0, stdout: 'imported 1 records\n' });
    expect(recordCount()).toBe(1);
    expect(cli(vault, ['import', join(root, 'absent.json')], env)).toMatchObject({ status: 4, stderr: expect.stringContaining('cannot read the import file') });
  });

  test('other subcommands\u2019 usage errors are bad input too', () => {
    expect(cli(vault, ['list', '--no-such-option'], env).status).toBe(2);
    expect(cli(vault, ['show'], env).status).toBe(2);
    expect(cli(vault, ['import', '--help'], env).status).toBe(0);
  });
});
