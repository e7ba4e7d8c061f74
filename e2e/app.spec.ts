// Functional end-to-end spec of the renderer against the loopback web shell (real core, real
// crypto, fresh vault). The tests run in order on one page, as one analyst's session:
// create the vault, add records of each kind, attach and extract a file, search, edit with
// history, trash/restore/purge, lock/unlock, audit viewer, settings, recovery.
// Full-page screenshots of the main screens go to artifacts/screenshots/ (git-ignored).
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { verifyReport } from '../electron/core/reports/verifyReport.ts';
import { vkeyFingerprint } from '../electron/core/audit/vkeyFingerprint.ts';
import { syncServer } from './support/syncServer.ts';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test, type BrowserContext, type Locator, type Page } from '@playwright/test';

const SHOTS = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'orbit lantern maple quarry 42';
const RECOVERED_PASSWORD = 'granite willow comet 7 violet';
const KDF = { timeout: 60_000 }; // Argon2id at its real cost, on a slow CI core
const VIEWPORT = { width: 1360, height: 860 };

const NOTE = 'Interview with harbour master';
const NOTE_EDITED = 'Interview with the harbour master (revised)';
const OBSERVATION = 'Container yard survey';
const OBSERVATION_EDITED = `${OBSERVATION} (second window)`;
const FILE_RECORD = 'Seized USB image';
const EVIDENCE = randomBytes(300 * 1024 + 123); // several 16 KiB chunks, short last chunk
const EVIDENCE_SHA = createHash('sha256').update(EVIDENCE).digest('hex');

test.describe.configure({ mode: 'serial' });

let context: BrowserContext;
let page: Page;
let recoveryKey = '';
/** Script errors, CSP violations and failed loads seen by any page of the session. */
const pageProblems: string[] = [];

/** The page URL with the web shell's access token in the fragment (never sent to the server). */
function appUrl(baseURL: string | undefined): string {
  if (!baseURL) throw new Error('playwright.config.ts must set use.baseURL to the web shell');
  const token = process.env.CUSTODY_WEB_TOKEN;
  return new URL(token ? `/#token=${token}` : '/', baseURL).toString();
}

/**
 * The app scrolls inside its panes (the page itself never does), so "full page" means a
 * taller window for the screens whose content runs below the fold.
 */
async function shot(name: string, tallHeight?: number): Promise<void> {
  if (tallHeight) await page.setViewportSize({ width: VIEWPORT.width, height: tallHeight });
  // Let entry animations and toasts settle so the picture shows the screen at rest.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 250))));
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  if (tallHeight) await page.setViewportSize(VIEWPORT);
}

const list = () => page.getByRole('listbox', { name: 'Records', exact: true });
const trashList = () => page.getByRole('listbox', { name: 'Records in Trash' });
const option = (l: Locator, title: string) => l.getByRole('option', { name: new RegExp(`^(Note|Observation|File)?\\s*${title.replace(/[()]/g, '\\$&')}`) });
const editor = () => page.getByRole('form', { name: /^(New|Edit)/ });
const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
const resultCount = () => page.locator('.result-count');

async function newRecord(kind: 'Note' | 'Observation' | 'File', title: string): Promise<void> {
  await page.getByRole('button', { name: 'New record' }).click();
  await expect(editor()).toBeVisible();
  await editor().getByRole('radio', { name: kind }).check();
  await editor().getByLabel('Title', { exact: true }).fill(title);
}

async function saveNew(title: string): Promise<void> {
  await editor().getByRole('button', { name: 'Create record' }).click();
  await expect(page.getByRole('heading', { level: 2, name: title })).toBeVisible();
  await expect(option(list(), title)).toBeVisible();
}

test.beforeAll(async ({ browser }, info) => {
  mkdirSync(SHOTS, { recursive: true });
  context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true, colorScheme: 'light' });
  context.on('page', (p) => {
    p.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') pageProblems.push(`console: ${m.text()}`);
    });
  });
  page = await context.newPage();
  await page.goto(appUrl(info.project.use.baseURL));
});

test.afterAll(async () => {
  await context.close();
});

test('creates a vault and shows the recovery kit once', async () => {
  await expect(page.getByRole('heading', { name: 'Create your vault' })).toBeVisible();
  await page.getByLabel('Analyst name').fill('Ana Analyst');
  await page.getByLabel('Master password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByRole('alert')).toContainText('at least 8 characters');

  await page.getByLabel('Master password', { exact: true }).fill(PASSWORD);
  await expect(page.getByText('Strong.')).toBeVisible();
  await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
  await shot('01-create-vault');
  await page.getByRole('button', { name: 'Create vault' }).click();

  await expect(page.getByRole('heading', { name: 'Save your recovery kit' })).toBeVisible(KDF);
  recoveryKey = (await page.getByRole('group', { name: 'Recovery key' }).innerText()).trim();
  expect(recoveryKey).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3,}$/);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save as file' }).click();
  const kit = await readFile(await (await download).path(), 'utf8');
  expect(kit).toContain(recoveryKey);
  expect(kit).toContain('Ana Analyst');
  await shot('02-recovery-kit');

  const proceed = page.getByRole('button', { name: 'Continue' });
  await expect(proceed).toBeDisabled();
  await page.getByLabel('I have stored my recovery key somewhere safe').check();
  await proceed.click();

  await expect(page.getByRole('heading', { name: 'No records yet' })).toBeVisible(KDF);
  await expect(page.getByRole('button', { name: 'Create your first record' })).toBeVisible();
  await shot('03-records-empty');
});

test('adds a note, an observation with typed fields, and a file record', async () => {
  await newRecord('Note', NOTE);
  await editor().getByLabel('Case', { exact: true }).fill('CASE-2026-014');
  await editor().getByLabel('Classification').selectOption('confidential');
  await editor().getByLabel('Captured at').fill('2026-11-20T09:30');
  await editor().getByLabel('Add tag').fill('interview');
  await editor().getByLabel('Add tag').press('Enter');
  await editor().getByLabel('Add tag').fill('port');
  await editor().getByLabel('Add tag').press('Enter');
  await expect(editor().getByRole('button', { name: 'Remove tag port' })).toBeVisible();
  await editor().getByLabel('Text', { exact: true }).fill('Met the source near the lighthouse at dawn.\nHe described two unmarked containers.');
  await saveNew(NOTE);
  await expect(page.getByRole('article')).toContainText('CASE-2026-014');
  await expect(page.getByRole('article')).toContainText('Confidential');

  // Ctrl+N opens the editor too.
  await list().focus();
  await page.keyboard.press('Control+n');
  await expect(editor()).toBeVisible();
  await editor().getByRole('radio', { name: 'Observation' }).check();
  await editor().getByLabel('Title', { exact: true }).fill(OBSERVATION);
  await editor().getByLabel('Case', { exact: true }).fill('CASE-2026-014');
  await editor().getByLabel('Field 1 name').fill('Depth');
  await editor().getByLabel('Field 1 type').selectOption('number');
  await editor().getByLabel('Field 1 value').fill('not a number');
  await editor().getByRole('button', { name: 'Create record' }).click();
  await expect(editor().getByRole('alert')).toContainText('Field 1 (“Depth”): enter a number');
  await editor().getByLabel('Field 1 value').fill('12.5');
  await editor().getByRole('button', { name: 'Add field' }).click();
  await editor().getByLabel('Field 2 name').fill('Site');
  await editor().getByLabel('Field 2 type').selectOption('location');
  await editor().getByLabel('Field 2 latitude').fill('51.5');
  await editor().getByLabel('Field 2 longitude').fill('-0.12');
  await editor().getByLabel('Field 2 place label').fill('Dock 4');
  await editor().getByRole('button', { name: 'Add field' }).click();
  await editor().getByLabel('Field 3 name').fill('Observed on');
  await editor().getByLabel('Field 3 type').selectOption('date');
  await editor().getByLabel('Field 3 value').fill('2026-11-19');
  await editor().getByRole('button', { name: 'Add field' }).click();
  await editor().getByLabel('Field 4 name').fill('Scratch');
  await editor().getByRole('button', { name: 'Remove field 4' }).click();
  await expect(editor().getByLabel('Field 4 name')).toHaveCount(0);
  await editor().getByLabel('Notes', { exact: true }).fill('Fog; two forklifts moving red containers.');
  await shot('04-observation-editor');
  await saveNew(OBSERVATION);
  const fields = page.getByRole('article').locator('.fields-view');
  await expect(fields).toContainText('Depth');
  await expect(fields).toContainText('12.5');
  await expect(fields).toContainText('Dock 4 · 51.50000, -0.12000');
  await expect(fields).toContainText('Observed on');
  await expect(fields).not.toContainText('Scratch');
  await shot('05-observation');

  await newRecord('File', FILE_RECORD);
  await editor().getByLabel('Classification').selectOption('restricted');
  await saveNew(FILE_RECORD);
  await expect(resultCount()).toHaveText('3 records');
});

test('attaches a file and extracts it byte-identical', async () => {
  await expect(page.getByRole('heading', { level: 2, name: FILE_RECORD })).toBeVisible();
  await page.getByLabel('Add attachment').setInputFiles({ name: 'evidence.bin', mimeType: 'application/octet-stream', buffer: EVIDENCE });
  await expect(page.getByText('“evidence.bin” attached')).toBeVisible();
  await expect(page.locator('.attachment-name', { hasText: 'evidence.bin' })).toBeVisible();
  await expect(page.locator('.attachment-meta')).toContainText('300 KiB');
  await expect(page.getByRole('button', { name: 'Copy SHA-256 of evidence.bin' })).toHaveAttribute('title', new RegExp(EVIDENCE_SHA));

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save evidence.bin' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('evidence.bin');
  const bytes = await readFile(await file.path());
  expect(bytes.length).toBe(EVIDENCE.length);
  expect(Buffer.compare(bytes, EVIDENCE)).toBe(0);

  // Dropping files anywhere on the record attaches them too.
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['chain of custody form, signed'], 'handover.txt', { type: 'text/plain' }));
    return dt;
  });
  await page.getByRole('article').dispatchEvent('dragenter', { dataTransfer: dropped });
  await expect(page.getByText(`Drop to attach to “${FILE_RECORD}”`)).toBeVisible();
  await page.getByRole('article').dispatchEvent('drop', { dataTransfer: dropped });
  await expect(page.getByText('“handover.txt” attached')).toBeVisible();
  await expect(page.locator('.attachment-name')).toHaveText(['evidence.bin', 'handover.txt']);

  await page.getByRole('button', { name: 'Verify evidence.bin' }).click();
  await expect(page.getByText('Verified', { exact: true })).toBeVisible();
  await expect(page.getByText(/“evidence.bin” is intact: 300 KiB, SHA-256 matches/)).toBeVisible();
  await shot('06-record-with-attachment');
});

test('searches as you type and filters', async () => {
  const search = page.getByRole('searchbox', { name: 'Search records' });
  await search.fill('lighthouse');
  await expect(resultCount()).toHaveText('1 record');
  await expect(option(list(), NOTE)).toBeVisible();
  await expect(option(list(), OBSERVATION)).toHaveCount(0);

  await search.fill('Dock');
  await expect(resultCount()).toHaveText('1 record');
  await expect(option(list(), OBSERVATION)).toBeVisible();

  await search.fill('');
  await expect(resultCount()).toHaveText('3 records');
  await page.getByRole('button', { name: 'Filters' }).click();
  const filters = page.getByRole('group', { name: 'Filters' });
  await filters.getByLabel('Kind').selectOption('observation');
  await expect(resultCount()).toHaveText('1 record');
  await filters.getByLabel('Kind').selectOption('');
  await filters.getByLabel('Classification').selectOption('restricted');
  await expect(resultCount()).toHaveText('1 record');
  await expect(option(list(), FILE_RECORD)).toBeVisible();
  await filters.getByLabel('Tag').selectOption('interview');
  await expect(resultCount()).toHaveText('0 records');
  await expect(page.getByRole('heading', { name: 'No matching records' })).toBeVisible();
  await page.getByRole('button', { name: 'Clear search and filters' }).click();
  await expect(resultCount()).toHaveText('3 records');
  await filters.getByLabel('Case').selectOption('CASE-2026-014');
  await expect(resultCount()).toHaveText('2 records');
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await expect(resultCount()).toHaveText('3 records');
  await page.getByRole('button', { name: 'Filters' }).click();

  // Keyboard: "/" focuses search, arrows move in the list, Enter opens.
  await page.getByRole('heading', { level: 1, name: 'Records' }).click();
  await page.keyboard.press('/');
  await expect(search).toBeFocused();
  await search.press('ArrowDown');
  await expect(list()).toBeFocused();
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  const options = list().getByRole('option');
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'false');
  await option(list(), NOTE).click();
  await expect(page.getByRole('heading', { level: 2, name: NOTE })).toBeVisible();
  await shot('07-record-list');
});

test('edits a record, refuses a stale save, and shows the version history', async ({ baseURL }) => {
  await option(list(), NOTE).click();
  await page.getByRole('button', { name: 'Edit' }).click();
  await expect(editor()).toBeVisible();
  await editor().getByLabel('Title', { exact: true }).fill(NOTE_EDITED);
  await editor().getByLabel('Classification').selectOption('restricted');
  await editor().getByLabel('Text', { exact: true }).press('End');
  await editor().getByLabel('Text', { exact: true }).pressSequentially(' Follow-up set for Friday.');
  await page.keyboard.press('Control+s');
  await expect(page.getByText('Saved as version 2')).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: NOTE_EDITED })).toBeVisible();
  await expect(page.getByRole('article').getByText('v2', { exact: true })).toBeVisible();
  await expect(option(list(), NOTE_EDITED)).toBeVisible();

  // Optimistic locking: a save based on an old version is refused with a clear way out.
  await option(list(), OBSERVATION).click();
  await page.getByRole('button', { name: 'Edit' }).click();
  await editor().getByLabel('Notes', { exact: true }).fill('Edited in the first window.');
  const other = await context.newPage();
  await other.goto(appUrl(baseURL));
  await option(other.getByRole('listbox', { name: 'Records', exact: true }), OBSERVATION).click();
  await other.getByRole('button', { name: 'Edit' }).click();
  await other.getByRole('form', { name: /^Edit/ }).getByLabel('Title', { exact: true }).fill(OBSERVATION_EDITED);
  await other.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(other.getByText('Saved as version 2')).toBeVisible();
  await other.close();
  await editor().getByRole('button', { name: 'Save', exact: true }).click();
  const conflict = editor().getByRole('alert');
  await expect(conflict).toContainText('This record was changed somewhere else while you were editing');
  await conflict.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByRole('heading', { level: 2, name: OBSERVATION_EDITED })).toBeVisible();
  await expect(page.getByRole('article').getByText('v2', { exact: true })).toBeVisible();

  await option(list(), NOTE_EDITED).click();
  await page.getByRole('button', { name: 'History' }).click();
  const dialog = page.getByRole('dialog', { name: 'Version history' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: /Version 2\s*current/ })).toBeVisible();
  const v1 = dialog.getByRole('region', { name: 'Version 1' });
  await expect(v1).toContainText(NOTE);
  await expect(v1).toContainText(`Now: ${NOTE_EDITED}`);
  await expect(v1).toContainText('3 fields differ from the current version');
  await expect(v1.locator('.history-field.changed')).toHaveCount(3); // title, classification, text
  await shot('08-history');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('moves records to the Trash, restores one and deletes one forever', async () => {
  await option(list(), NOTE_EDITED).click();
  await page.getByRole('button', { name: 'Move to Trash' }).click();
  await expect(page.getByText(`“${NOTE_EDITED}” moved to Trash`)).toBeVisible();
  await expect(option(list(), NOTE_EDITED)).toHaveCount(0);
  await expect(resultCount()).toHaveText('2 records');

  await nav('Trash').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Trash' })).toBeVisible();
  await option(trashList(), NOTE_EDITED).click();
  await expect(page.getByText(/In the Trash since/)).toBeVisible();
  await page.getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByText(`“${NOTE_EDITED}” restored`)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'The Trash is empty' })).toBeVisible();

  await nav('Records').click();
  await expect(option(list(), NOTE_EDITED)).toBeVisible();
  await expect(resultCount()).toHaveText('3 records');

  await newRecord('Note', 'Scratch record');
  await saveNew('Scratch record');
  await page.getByRole('button', { name: 'Move to Trash' }).click();
  await nav('Trash').click();
  await option(trashList(), 'Scratch record').click();
  await page.getByRole('button', { name: 'Delete forever' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete forever?' });
  await expect(confirm).toContainText('cannot be undone');
  await confirm.getByRole('button', { name: 'Delete forever' }).click();
  await expect(page.getByText('“Scratch record” deleted forever')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'The Trash is empty' })).toBeVisible();
  await nav('Records').click();
  await expect(resultCount()).toHaveText('3 records');
});

test('locks, refuses a wrong password, and unlocks', async () => {
  const reloaded = page.waitForEvent('load');
  await page.keyboard.press('Control+l');
  await reloaded; // the web shell tells the page it was locked; the page drops its memory
  await expect(page.getByRole('heading', { name: 'Unlock Custody' })).toBeVisible();
  const password = page.getByLabel('Master password', { exact: true });
  await expect(password).toBeFocused();

  await password.fill('not my password');
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong password', KDF);
  await expect(password).toBeFocused();
  await expect(password).toHaveValue('');
  await shot('09-unlock-wrong-password');

  await password.fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible(KDF);
  await expect(resultCount()).toHaveText('3 records');
});

test('audit viewer lists the actions, charts them and verifies clean', async () => {
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(palette).toBeVisible();
  await palette.getByRole('combobox', { name: 'Type a command' }).fill('audit');
  await expect(palette.getByRole('option', { name: 'Go to audit log' })).toBeVisible();
  await shot('15-command-palette');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();

  const table = page.getByRole('table');
  await expect(table.getByRole('cell', { name: 'vault.unlocked' }).first()).toBeVisible();
  const failed = table.getByRole('row').filter({ hasText: 'vault.unlock_failed' });
  await expect(failed.first()).toContainText('Failed');

  const event = page.getByLabel('Event type', { exact: true });
  for (const e of ['vault.created', 'record.created', 'record.updated', 'record.deleted', 'record.restored', 'record.purged', 'attachment.added', 'attachment.verified', 'vault.locked']) {
    await event.selectOption(e);
    await expect(table.getByRole('cell', { name: e, exact: true }).first()).toBeVisible();
  }
  await event.selectOption('');
  await page.getByLabel('Result', { exact: true }).selectOption('failed');
  await expect(table.getByRole('cell', { name: 'vault.unlock_failed' })).toHaveCount(1);
  await expect(table.getByText('Succeeded')).toHaveCount(0);
  await page.getByLabel('Result', { exact: true }).selectOption('');

  // Expand one entry: details, never content.
  await table.getByRole('button', { name: /^Details of entry/ }).first().click();
  await expect(table.getByText('Leaf hash')).toBeVisible();

  const chart = page.getByRole('img', { name: /Audit activity by day and event type/ });
  await expect(chart).toBeVisible();
  await expect(page.getByRole('list', { name: 'Legend' })).toContainText('search');

  await page.getByRole('button', { name: 'Verify log' }).click();
  await expect(page.getByText('Log verified.')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('list', { name: 'Problems' })).toHaveCount(0);
  await expect(table.getByRole('cell', { name: 'audit.verified' }).first()).toBeVisible();
  await shot('10-audit', 1500);
});

test('exports a signed report of one case that verifies offline and in pdfsig', async () => {
  await page.getByRole('button', { name: 'Export signed report…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export signed report' });
  await expect(dialog.getByRole('button', { name: 'Export report' })).toBeDisabled();
  await dialog.getByLabel('One case').check();
  await dialog.getByLabel('Case', { exact: true }).selectOption('CASE-2026-014');
  await dialog.getByLabel('Purpose').fill('Court filing 2026-77');
  await dialog.getByLabel('Recipient (optional)').fill('District court');
  await shot('17-export-report');
  const download = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Export report' }).click();
  const zip = await (await download).path();
  // The dialog then shows the fingerprint of the key the report carries, for the recipient.
  const fingerprint = dialog.getByRole('status', { name: 'Verifier key fingerprint' });
  await expect(fingerprint).toHaveText(/^[0-9a-f]{32}$/, { timeout: 60_000 });
  const shown = await fingerprint.textContent();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);
  const files = unzipSync(await readFile(zip));
  expect(shown).toBe(vkeyFingerprint(new TextDecoder().decode(files['verifier.vkey'])));
  expect(Object.keys(files).sort()).toEqual(['checkpoint.note', 'events.jsonl', 'inclusion-proofs.jsonl', 'manifest', 'openings.jsonl', 'report.pdf', 'signing-certificate.pem', 'verifier.vkey']);
  const dir = fileURLToPath(new URL('../artifacts/e2e-report/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(`${dir}${name}`, bytes);
  expect(execFileSync('pdfsig', [`${dir}report.pdf`], { encoding: 'utf8' })).toContain('Signature is Valid.');
  const verdict = await verifyReport(zip);
  expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
  expect(verdict.signer).toMatchObject({ fingerprint: shown, trust: 'report' });
  const events = new TextDecoder().decode(files['events.jsonl']);
  expect(events).toContain('"event":"record.created"');
  await expect(page.getByRole('table').getByRole('cell', { name: 'report.exported' }).first()).toBeVisible();
});

test('settings: theme, auto-lock, KDF calibration, password change', async () => {
  await nav('Settings').click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  const autoLock = page.getByLabel('Auto-lock after idle (minutes)');
  const minutes = (await autoLock.inputValue()) === '7' ? '9' : '7';
  // Settings has several forms with an Apply button (locking, sharing policies): this one's.
  const apply = page.getByLabel('Locking').getByRole('button', { name: 'Apply' });
  await expect(apply).toBeDisabled();
  await autoLock.fill(minutes);
  await apply.click();
  await expect(page.getByText(`Vault locks after ${minutes} idle minutes`)).toBeVisible();
  await expect(apply).toBeDisabled();

  await page.getByLabel('Target unlock time').selectOption('500');
  await page.getByRole('button', { name: 'Calibrate' }).click();
  await expect(page.getByText(/For about 500 ms on this device:/)).toBeVisible(KDF);
  await shot('11-settings-light', 1250);

  await page.getByRole('radio', { name: 'Dark' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByText('Theme: dark')).toBeVisible();
  // The colours really change (light-dark() resolved by color-scheme), not just the attribute.
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(15, 17, 21)');
  await shot('12-settings-dark', 1250);
  await nav('Records').click();
  await option(list(), OBSERVATION_EDITED).click();
  await expect(page.getByRole('heading', { level: 2, name: OBSERVATION_EDITED })).toBeVisible();
  await shot('13-records-dark');
  await nav('Audit log').click();
  await expect(page.getByRole('img', { name: /Audit activity/ })).toBeVisible();
  await shot('14-audit-dark', 1500);
  await nav('Settings').click();
  await page.getByRole('radio', { name: 'Light' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(244, 245, 247)');
  // "System" follows the operating system's choice.
  await page.getByRole('radio', { name: 'System' }).check();
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(15, 17, 21)');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(244, 245, 247)');
  await page.getByRole('radio', { name: 'Light' }).check();

  await page.getByLabel('Current password', { exact: true }).fill('wrong current password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('current password is wrong', KDF);
  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Master password changed')).toBeVisible(KDF);

  await nav('About').click();
  await expect(page.getByRole('heading', { name: 'Security model' })).toBeVisible();
  await expect(page.getByText('Browser (local web shell)')).toBeVisible();
});

test('sets up sync with a PostgreSQL server and syncs', async () => {
  const server = await syncServer();
  try {
    const url = server.analystUrl;
    await nav('Settings').click();
    const panel = page.getByRole('region', { name: 'Sync' });
    await expect(panel.getByRole('status')).toContainText('Not set up');
    await panel.getByLabel('Server (connection string)').fill(url);
    await panel.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('Sync server saved (sealed in the vault)')).toBeVisible({ timeout: 60_000 });
    await expect(panel.getByRole('status')).not.toContainText(new URL(url).password);
    await panel.getByRole('button', { name: 'Sync now' }).click();
    await expect(page.getByText(/^Synced: sent \d+ records?/)).toBeVisible({ timeout: 60_000 });
    await expect(panel.getByRole('status')).toContainText('Everything is sent.');
    await shot('18-settings-sync', 1400);
    const rows = await server.admin.query('SELECT count(*)::int AS n FROM custody.record');
    expect(rows.rows[0].n).toBeGreaterThan(0);
    const dump = JSON.stringify((await server.admin.query('SELECT * FROM custody.record')).rows);
    expect(dump).not.toContain(NOTE_EDITED);
  } finally {
    await server.cleanup();
  }
});

test('recovers access with the recovery key', async () => {
  const reloaded = page.waitForEvent('load');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /^Lock/ }).click();
  await reloaded;
  await expect(page.getByRole('heading', { name: 'Unlock Custody' })).toBeVisible();
  await page.getByRole('button', { name: 'Forgot password? Use recovery key' }).click();
  await expect(page.getByRole('heading', { name: 'Recover access' })).toBeVisible();
  await page.getByLabel('Recovery key').fill('AAAA-BBBB-CCCC-DDDD');
  await page.getByLabel('New master password', { exact: true }).fill(RECOVERED_PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(RECOVERED_PASSWORD);
  await page.getByRole('button', { name: 'Set new password and unlock' }).click();
  await expect(page.getByRole('alert')).toContainText('does not open this vault', KDF);
  await shot('16-recover');
  await page.getByLabel('Recovery key').fill(recoveryKey);
  await page.getByRole('button', { name: 'Set new password and unlock' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible(KDF);
  await expect(resultCount()).toHaveText('3 records');
});

test('imports records from a JSON file', async () => {
  const records = [
    { kind: 'note', title: 'Imported call log', body: 'Three calls to the shipping agent.', case: 'CASE-2026-020', tags: ['phone'], classification: 'internal', capturedAt: '2026-11-02T10:00:00Z' },
    { kind: 'observation', title: 'Imported gate count', fields: [{ name: 'Trucks', type: 'number', value: 14 }], case: 'CASE-2026-020' },
  ];
  await page.getByLabel('Import…').setInputFiles({ name: 'batch.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(records)) });
  await expect(page.getByText('Imported 2 records')).toBeVisible();
  await expect(resultCount()).toHaveText('5 records');
  await page.getByRole('searchbox', { name: 'Search records' }).fill('shipping agent');
  await expect(option(list(), 'Imported call log')).toBeVisible();
  await expect(resultCount()).toHaveText('1 record');

  await page.getByLabel('Import…').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByRole('alert')).toContainText('is not a .csv or .json file');
});

test('no script errors, CSP violations or failed requests during the session', () => {
  expect(pageProblems).toEqual([]);
});
