// Repeated wrong passwords slow down (issue 10, item 12), as the analyst sees it: the vault
// refuses attempts for a while (TOO_MANY_ATTEMPTS with retryAfter), and the unlock screen says
// so, counts down and keeps Unlock disabled. The attempt count is planted in the vault folder
// (as ten wrong passwords would leave it), so nothing here races the real clock.
import { expect, test, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchWebShell, type PrivateShell } from './support/webShell.ts';

const PASSWORD = 'e2e correct horse battery staple';

let shell: PrivateShell;
test.beforeAll(async () => {
  shell = await launchWebShell();
});
test.afterAll(async () => {
  await shell?.stop();
});

async function createVault(page: Page): Promise<void> {
  await page.goto(shell.url);
  await page.waitForFunction(() => sessionStorage.getItem('custody.token') !== null);
  const answer = await page.evaluate(async (password) => {
    const token = sessionStorage.getItem('custody.token');
    const res = await fetch('/api/call/vault.create', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    return (await res.json()) as { ok: boolean };
  }, PASSWORD);
  expect(answer.ok).toBe(true);
}

test('after repeated wrong passwords the unlock screen shows the wait and keeps Unlock disabled, even for the right password', async ({ page }) => {
  await createVault(page);
  writeFileSync(join(shell.vaultDir, 'unlock-attempts.json'), JSON.stringify({ failures: 10, lastAt: Date.now() }));
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Unlock Custody' })).toBeVisible();
  await page.getByLabel('Master password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Too many wrong passwords in a row');
  await expect(page.getByRole('status').filter({ hasText: 'You can try again in' })).toBeVisible();
  const wait = page.getByRole('button', { name: /^Wait \d+ s$/ });
  await expect(wait).toBeDisabled();
  await expect(page.getByRole('heading', { name: 'Unlock Custody' })).toBeVisible();
});
