// No SQLite temp files. A statement journal, a sort that spills or a vacuum's scratch file would
// hold the vault's pages (audit entries and record metadata in the clear, sealed records)
// under the temp folder, outside the vault's owner-only folder and out of secure_delete's reach.
// The main connection keeps them in memory (temp_store = MEMORY, db/database.ts). Every command
// that writes or reads the database in bulk runs here through the built CLI with SQLITE_TMPDIR
// pointed at a watched folder. SQLite unlinks a temp file the moment it opens it, so listing
// the folder afterwards would show nothing either way: the folder is watched (inotify, through
// fs.watch) while each command runs. Each command ends with a marker file created in the
// folder by this test, and every event before it has then been seen: inotify keeps order.
import { spawn } from 'node:child_process';
import { watch, writeFileSync, rmSync, mkdirSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { tempDir } from '../core/testing/tempVault.ts';
import { CLI } from './testing.ts';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });

const PASSWORD = 'sqlite temp files test password';
let root: string;
let watched: string;
let watcher: FSWatcher;
/** Names created or removed in the watched folder since the last marker. */
let seen: string[] = [];
let markerSeen: ((name: string) => void) | null = null;
let markers = 0;

beforeAll(() => {
  root = tempDir('custody-sqlite-temp-');
  watched = join(root, 'sqlite-tmp');
  mkdirSync(watched);
  watcher = watch(watched, (_event, name) => {
    if (name === null) return;
    if (name.startsWith('marker-')) markerSeen?.(name);
    else seen.push(name);
  });
});
afterAll(() => {
  watcher.close();
  rmSync(root, { recursive: true, force: true });
});

/** Everything that appeared in the watched folder up to now (a marker closes the window). */
async function drain(): Promise<string[]> {
  const name = `marker-${markers++}`;
  const arrived = new Promise<void>((resolve, reject) => {
    // A watcher that lost its events would otherwise make this test wait for its timeout.
    const lost = setTimeout(() => reject(new Error(`the watcher never reported ${name}`)), 60_000);
    markerSeen = (n) => {
      if (n !== name) return;
      clearTimeout(lost);
      resolve();
    };
  });
  writeFileSync(join(watched, name), '');
  await arrived;
  // A temp file is reported at each write as well: its name once is enough.
  const out = [...new Set(seen)];
  seen = [];
  return out;
}

/** Runs the CLI with SQLite's temp folder pointed at the watched one; resolves with its exit and output. */
function run(vault: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--vault', vault, ...args], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, SQLITE_TMPDIR: watched }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

test('the watcher sees a file that is created and unlinked at once (what SQLite does with a temp file)', async () => {
  const p = join(watched, 'etilqs_probe');
  writeFileSync(p, 'x');
  rmSync(p);
  expect(await drain()).toContain('etilqs_probe');
});

test('no command writes a SQLite temp file: init, a bulk import on two threads, add, list, search, audit verify, report, backup, backup verify, restore', async () => {
  const vault = join(root, 'vault');
  // 8,000 records of ~1 KiB: without temp_store = MEMORY, SQLite spills a statement journal of
  // this import to a temp file (6,000 records of ~350 bytes do not; checked with the pragma out).
  const records = Array.from({ length: 8000 }, (_, i) => ({ kind: 'note', title: `note ${i}`, body: `field notes ${i} `.repeat(60), case: `Case ${i % 7}`, tags: [`t${i % 5}`] }));
  writeFileSync(join(root, 'records.json'), JSON.stringify(records));
  const commands: [string, string[]][] = [
    ['init', ['init', '--kdf-target-ms', '200', '--actor', 'Ana Analyst']],
    // The bulk path (records/sealBatch.ts): one transaction with triggers on every row.
    ['import', ['import', join(root, 'records.json')]],
    ['add', ['add', '--title', 'one more', '--body', 'b']],
    ['list', ['list', '--json']],
    ['search', ['search', 'notes']],
    ['audit verify', ['audit', 'verify']],
    ['report', ['report', '--out', join(root, 'report'), '--purpose', 'court']],
    ['backup', ['backup', '--out', join(root, 'vault.backup')]],
    ['backup verify --full', ['backup', 'verify', '--full', join(root, 'vault.backup')]],
  ];
  for (const [name, args] of commands) {
    const r = await run(vault, args);
    expect(r.status, `${name}: ${r.stderr}`).toBe(0);
    expect(await drain(), name).toEqual([]);
  }
  const r = await run(join(root, 'restored'), ['restore', join(root, 'vault.backup')]);
  expect(r.status, r.stderr).toBe(0);
  expect(await drain(), 'restore').toEqual([]);
});
