// Delegated disclosure end to end in Chromium, two vaults in two private web shells: the
// reviewer creates an identity (Settings → Sharing), the issuer adds it to the address book and
// issues a disclosure of some days from the Disclose… dialog, the reviewer opens the saved
// package with Open disclosure…, sees the grant, views a record; both audit logs show it.
import { expect, test, type Page } from '@playwright/test';
import { launchWebShell, type PrivateShell } from './support/webShell.ts';

const PASSWORD = 'e2e sharing correct horse battery';
const INSIDE = 'Harbour watch inside the grant';
const OUTSIDE = 'CANARY-outside-the-grant';

async function call(page: Page, method: string, request: unknown = {}): Promise<unknown> {
  const body = await page.evaluate(
    async ({ method, request }) => {
      const token = sessionStorage.getItem('custody.token');
      const res = await fetch(`/api/call/${encodeURIComponent(method)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(request) });
      return (await res.json()) as { ok: boolean; value?: unknown; error?: unknown };
    },
    { method, request },
  );
  expect(body, `${method}: ${JSON.stringify(body.error)}`).toMatchObject({ ok: true });
  return body.value;
}

/** A new vault in the shell, unlocked, and the page showing it. */
async function openVault(page: Page, shell: PrivateShell, actor: string): Promise<void> {
  await page.goto(shell.url);
  await page.waitForFunction(() => sessionStorage.getItem('custody.token') !== null);
  await call(page, 'vault.create', { password: PASSWORD, actor });
  await call(page, 'vault.unlock', { password: PASSWORD });
  await page.reload();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

const nav = (page: Page, label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: label }).click();

test.describe('sharing with a reviewer', () => {
  let issuerShell: PrivateShell;
  let reviewerShell: PrivateShell;
  test.beforeAll(async () => {
    [issuerShell, reviewerShell] = await Promise.all([launchWebShell(), launchWebShell()]);
  });
  test.afterAll(async () => {
    await Promise.all([issuerShell?.stop(), reviewerShell?.stop()]);
  });

  test('issue a disclosure in one vault, open it in another, view a record, see both audit trails', async ({ browser }) => {
    test.setTimeout(240_000);
    const issuer = await (await browser.newContext({ acceptDownloads: true })).newPage();
    const reviewer = await (await browser.newContext()).newPage();
    await openVault(issuer, issuerShell, 'Issuer Ina');
    await openVault(reviewer, reviewerShell, 'Reviewer Rui');

    // The reviewer makes an identity and reads its recipient and fingerprint.
    await nav(reviewer, 'Settings');
    await reviewer.getByRole('button', { name: 'Create reviewer identity' }).click();
    const recipient = (await reviewer.getByTestId('identity-recipient').inputValue()).trim();
    expect(recipient).toMatch(/^age1pq1[0-9a-z]+$/);
    const fingerprint = (await reviewer.getByTestId('identity-fingerprint').textContent())!.trim();
    expect(fingerprint).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/);

    // The issuer has records on three days; the grant covers the middle one.
    await call(issuer, 'records.create', { kind: 'note', title: 'Before', body: OUTSIDE, capturedAt: '2026-03-02T10:00:00Z' });
    await call(issuer, 'records.create', { kind: 'note', title: INSIDE, body: 'Two boats left at dawn', capturedAt: '2026-03-03T06:30:00Z' });
    await call(issuer, 'records.create', { kind: 'note', title: 'After', body: OUTSIDE, capturedAt: '2026-03-04T10:00:00Z' });

    // Address book: the recipient under a name, shown with the fingerprint read out.
    await nav(issuer, 'Settings');
    const book = issuer.getByRole('form', { name: 'Add a recipient' });
    await book.getByLabel('Name').fill('Reviewer Rui');
    await book.getByLabel('Recipient (age1pq1…)').fill(recipient);
    await book.getByRole('button', { name: 'Add recipient' }).click();
    await expect(issuer.getByRole('list', { name: 'Recipients' })).toContainText(fingerprint);

    // Disclose… from the Disclosures screen.
    await nav(issuer, 'Disclosures');
    await issuer.getByRole('button', { name: 'Disclose…' }).click();
    const dialog = issuer.getByRole('dialog', { name: 'Disclose…' });
    await dialog.getByRole('checkbox', { name: /Reviewer Rui/ }).check();
    await dialog.getByLabel('From (UTC day)').fill('2026-03-03');
    await dialog.getByLabel('Until (UTC day)').fill('2026-03-03');
    await dialog.getByLabel('Purpose').fill('Supervisor review of the harbour watch');
    const downloading = issuer.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Issue and save package' }).click();
    const download = await downloading;
    const packagePath = await download.path();
    expect(download.suggestedFilename()).toMatch(/\.age$/);
    await expect(issuer.getByRole('dialog', { name: 'Disclosure issued' })).toContainText('1 record');
    await issuer.getByRole('button', { name: 'Done' }).click();

    // The reviewer opens the package: the grant is shown with the material, read-only.
    await nav(reviewer, 'Disclosures');
    await reviewer.getByTestId('open-disclosure-input').setInputFiles(packagePath);
    await reviewer.getByRole('list', { name: 'Received disclosures' }).getByRole('button').first().click();
    const banner = reviewer.getByTestId('grant-banner');
    await expect(banner).toContainText('2026-03-03');
    await expect(banner).toContainText('Supervisor review of the harbour watch');
    const records = reviewer.getByRole('list', { name: 'Records of the grant' });
    await expect(records.getByRole('button')).toHaveCount(1);
    await expect(records).not.toContainText('Before');
    await records.getByRole('button', { name: INSIDE }).click();
    await expect(reviewer.getByRole('article', { name: 'Received record' })).toContainText('Two boats left at dawn');
    await expect(banner).toBeVisible();
    await expect(reviewer.locator('body')).not.toContainText(OUTSIDE);

    // The page never gets the identity's secret, only the public recipient.
    expect(JSON.stringify(await call(reviewer, 'sharing.identity'))).not.toContain('AGE-SECRET-KEY');

    // A policy refuses what breaks it, naming it, and the refusal is audited.
    await nav(issuer, 'Settings');
    await issuer.getByLabel('Maximum range (days)').fill('1');
    await issuer.getByLabel('Maximum range (days)').press('Enter');
    await expect.poll(async () => ((await call(issuer, 'sharing.policy')) as { maxRangeDays: number | null }).maxRangeDays).toBe(1);
    await nav(issuer, 'Disclosures');
    await issuer.getByRole('button', { name: 'Disclose…' }).click();
    const refused = issuer.getByRole('dialog', { name: 'Disclose…' });
    await refused.getByRole('checkbox', { name: /Reviewer Rui/ }).check();
    await refused.getByLabel('From (UTC day)').fill('2026-03-02');
    await refused.getByLabel('Until (UTC day)').fill('2026-03-04');
    await refused.getByLabel('Purpose').fill('Too wide');
    await refused.getByRole('button', { name: 'Issue and save package' }).click();
    await expect(refused).toContainText('maximum range in days');
    await refused.getByRole('button', { name: 'Cancel' }).click();

    // Both audit trails: issued on one side; opened and viewed on the other.
    await nav(issuer, 'Audit log');
    await expect(issuer.locator('code.event-name', { hasText: 'grant.issued' }).first()).toBeVisible();
    await expect(issuer.locator('code.event-name', { hasText: 'recipient.added' }).first()).toBeVisible();
    await expect(issuer.locator('code.event-name', { hasText: 'grant.refused' }).first()).toBeVisible();
    await nav(reviewer, 'Audit log');
    await expect(reviewer.locator('code.event-name', { hasText: 'grant.opened' }).first()).toBeVisible();
    await expect(reviewer.locator('code.event-name', { hasText: 'grant.record_viewed' }).first()).toBeVisible();
  });
});
