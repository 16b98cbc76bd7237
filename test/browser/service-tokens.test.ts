// The web UI in a real browser: `tessera serve` started as a user starts it, the first platform
// administrator made with `tessera setup`, a CO set up in the browser, and a person who generates,
// copies and revokes service tokens. Writes the screenshots in docs/screenshots/.
//
// The steps build on each other (one server, one browser, in order), as a person's session does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkTokenFormat, DEFAULT_TOKEN_TYPE_ID, TOKEN_TYPES } from '../../src/plugins/service-tokens/formats/token-types.ts';
import {
  addPersonInBrowser,
  addServiceInBrowser,
  createCoInBrowser,
  enableTokensInBrowser,
  expectFlash,
  launchChromium,
  newContext,
  openIdentityMenuEntry,
  screenshot,
  signInAs,
  startTesseraServer,
  submitConfirmed,
  type TesseraServer,
} from '../support/browser.ts';

const ADMIN = { username: 'admin', password: 'admin-password-1' };
const GRACE = { given: 'Grace', family: 'Hopper', uid: 'grace', mail: 'grace@example.org', password: 'grace-password-1' };
const CO_NAME = 'Physics Lab';
const TOKEN_FORMAT = /^tst_[0-9A-Za-z]{30}$/;
const DEFAULT_TYPE = TOKEN_TYPES.find((t) => t.id === DEFAULT_TOKEN_TYPE_ID)!;

describe('service tokens in the browser', () => {
  let server: TesseraServer;
  let browser: Browser;
  let adminContext: BrowserContext;
  let admin: Page;
  let graceContext: BrowserContext;
  let grace: Page;
  let coId: string;
  let personId: string;
  /** The secret Grace generated, which must never be shown again. */
  let secret: string;

  before(async () => {
    [server, browser] = await Promise.all([startTesseraServer(), launchChromium()]);
    // The operator's part: the first platform administrator, and a local password for the person
    // the administrator is about to add (an account signs in as every CO Person with its username).
    const [setup, account] = await Promise.all([
      server.cli(['setup', '--username', ADMIN.username, '--password-env', 'ADMIN_PASSWORD', '--given-name', 'Ada', '--family-name', 'Lovelace'], { ADMIN_PASSWORD: ADMIN.password }),
      server.cli(['account', 'set-password', '--username', GRACE.uid, '--password-env', 'GRACE_PASSWORD'], { GRACE_PASSWORD: GRACE.password }),
    ]);
    assert.match(setup, /Platform administrator "admin" created/);
    assert.match(account, /Local account created for "grace"/);
    adminContext = await newContext(browser, server);
    admin = await adminContext.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lets the first platform administrator sign in, and refuses a wrong password', async () => {
    await admin.goto('/sign-in');
    await screenshot(admin, 'sign-in');
    await admin.getByLabel('Username').fill(ADMIN.username);
    await admin.getByLabel('Password').fill('not-the-password');
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('alert').waitFor();
    assert.equal((await admin.getByRole('alert').textContent())?.trim(), 'The username or password is wrong.');
    assert.equal(await admin.getByLabel('Username').inputValue(), ADMIN.username, 'the username is kept');
    assert.equal(await admin.getByLabel('Password').inputValue(), '', 'the password is not sent back');

    await signInAs(admin, ADMIN.username, ADMIN.password);
    assert.equal(await admin.locator('details.identity-menu summary').textContent(), 'Ada Lovelace');
  });

  it('sets up a CO, a person with a login identifier and a service, and enables tokens for it', async () => {
    coId = await createCoInBrowser(admin, CO_NAME, 'Detectors, data and the people who run them');
    await screenshot(admin, 'co-dashboard');

    personId = await addPersonInBrowser(admin, coId, GRACE);
    await expectFlash(admin, 'Grace Hopper added.');
    assert.equal(await admin.getByRole('heading', { level: 1 }).textContent(), 'Grace Hopper');

    await addServiceInBrowser(admin, coId, { name: 'Mail', shortLabel: 'mail', description: 'IMAP and SMTP at mail.physics.example' });
    await addServiceInBrowser(admin, coId, { name: 'Wiki', shortLabel: 'wiki', description: 'The lab notebook' });

    // Until tokens are enabled, the person's page says what to do next.
    await admin.goto(`/cos/${coId}/people/${personId}/service-tokens`);
    assert.match(await admin.locator('.empty').innerText(), /Enable tokens for a service under Service token settings/);

    await enableTokensInBrowser(admin, coId, 'Mail');
    const mailRow = admin.getByRole('row', { name: /Mail/ });
    assert.match(await mailRow.innerText(), /active/);
    assert.match(await admin.getByRole('row', { name: /Wiki/ }).innerText(), /off/);
    await admin.getByRole('link', { name: 'Mail' }).click();
    // The custom type's fields show only when the custom type is chosen.
    const custom = admin.getByRole('group', { name: /Custom token type/ });
    assert.ok(await custom.isHidden(), 'the custom token type fields show for a built-in type');
    await screenshot(admin, 'service-token-settings');
    await admin.getByLabel('Token type').selectOption('custom');
    assert.ok(await custom.isVisible(), 'the custom token type fields are hidden when Custom is chosen');

    await admin.goto(`/cos/${coId}/people`);
    assert.match(await admin.getByRole('row', { name: /Grace Hopper/ }).innerText(), /grace \(uid\)[\s\S]*grace@example\.org/);
    await screenshot(admin, 'co-people');
  });

  it('lets the person sign in and generate a token from the identity menu, shown once with a copy button and a QR code', async () => {
    graceContext = await newContext(browser, server);
    await graceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    grace = await graceContext.newPage();
    await signInAs(grace, GRACE.uid, GRACE.password);
    await openIdentityMenuEntry(grace, 'Grace Hopper', `Service Tokens → ${CO_NAME}`);
    assert.equal(await grace.getByRole('heading', { level: 1 }).textContent(), `Your service tokens in ${CO_NAME}`);
    const mail = grace.getByRole('region', { name: 'Mail' });
    assert.match(await mail.innerText(), /No token yet — generate one below\./);
    assert.equal(await grace.getByRole('region', { name: 'Wiki' }).count(), 0, 'a service without tokens enabled is not listed');

    await mail.getByLabel('Label').fill('laptop mail client');
    await Promise.all([grace.waitForURL(/\/generate$/), mail.getByRole('button', { name: 'Generate' }).click()]);
    assert.equal(await grace.getByRole('heading', { level: 1 }).textContent(), 'Your new token');
    secret = (await grace.locator('#token-secret').textContent())!.trim();
    assert.match(secret, TOKEN_FORMAT);
    assert.equal(checkTokenFormat(DEFAULT_TYPE, secret), null, 'the checksum of the shown token is right');
    assert.match(await grace.locator('main').innerText(), /Sign in to Mail with the username grace and this token as the password/);

    const copy = grace.getByRole('button', { name: 'Copy to clipboard' });
    await copy.click();
    await grace.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await grace.evaluate(() => navigator.clipboard.readText()), secret);

    await grace.getByText('Show as QR code').click();
    const qr = grace.getByRole('img', { name: 'QR code of the token' });
    await qr.waitFor();
    const size = await qr.evaluate((img: HTMLImageElement) => ({ complete: img.complete, width: img.naturalWidth }));
    assert.ok(size.complete && size.width > 100, `the QR code image loads (${JSON.stringify(size)})`);
    await screenshot(grace, 'token-shown-once');
  });

  it('never shows the secret again: the token list has its label and hint only, also after a reload', async () => {
    await grace.getByRole('link', { name: 'Done' }).click();
    await grace.waitForURL(/\/service-tokens$/);
    for (const attempt of ['after Done', 'after a reload']) {
      if (attempt === 'after a reload') await grace.reload();
      const html = await grace.content();
      assert.ok(!html.includes(secret), `the secret is on the token list ${attempt}`);
      const row = grace.getByRole('row', { name: /laptop mail client/ });
      const text = await row.innerText();
      const hint = `tst_…${secret.slice(-4)}`;
      assert.ok(text.includes(hint), `the row shows the hint ${hint}: ${text}`);
      assert.match(text, /active/);
    }
  });

  it('lets an administrator generate a token on behalf of the person from the CO Person page', async () => {
    await admin.goto(`/cos/${coId}/people`);
    await admin.getByRole('link', { name: 'Grace Hopper' }).click();
    await screenshot(admin, 'co-person');
    await admin.getByRole('link', { name: 'Service tokens' }).click();
    assert.equal(await admin.getByRole('heading', { level: 1 }).textContent(), 'Service tokens of Grace Hopper');
    const mail = admin.getByRole('region', { name: 'Mail' });
    await mail.getByLabel('Label').fill('phone');
    await mail.getByLabel('Expires after').selectOption('90');
    await mail.getByRole('button', { name: 'Generate' }).click();
    await admin.waitForURL(/\/generate$/);
    assert.equal(await admin.getByRole('heading', { level: 1 }).textContent(), 'New token for Grace Hopper');
    assert.match(await admin.locator('.flash').innerText(), /Token “phone” for Mail was created for Grace Hopper/);
    const onBehalf = (await admin.locator('#token-secret').textContent())!.trim();
    assert.match(onBehalf, TOKEN_FORMAT);
    assert.notEqual(onBehalf, secret);

    // Grace sees it among her tokens, made by the administrator.
    await grace.reload();
    const row = grace.getByRole('row', { name: /phone/ });
    assert.match(await row.innerText(), /by Ada Lovelace|by admin/);
    assert.ok(!(await grace.content()).includes(onBehalf));
  });

  it('asks before revoking: dismissing keeps the token, accepting revokes it', async () => {
    const row = grace.getByRole('row', { name: /phone/ });
    const revoke = () => row.getByRole('button', { name: 'Revoke' }).click();
    const revokePosts: string[] = [];
    grace.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/revoke')) revokePosts.push(r.url());
    });

    const asked = await submitConfirmed(grace, revoke, false);
    assert.equal(asked, 'Revoke the token "phone"? Clients using it stop working at once.');
    await grace.waitForTimeout(300);
    assert.deepEqual(revokePosts, [], 'dismissing the dialog sent the revocation');
    assert.equal(await grace.locator('.flash').count(), 0);
    await grace.reload();
    assert.match(await row.innerText(), /active/, 'dismissing the dialog revoked the token');

    await submitConfirmed(grace, revoke, true);
    assert.equal(revokePosts.length, 1);
    await expectFlash(grace, 'The token is revoked.');
    assert.match(await row.innerText(), /revoked/);
    assert.match(await grace.getByRole('row', { name: /laptop mail client/ }).innerText(), /active/, 'only the chosen token is revoked');
    await screenshot(grace, 'person-tokens');
  });

  it('asks before replacing a token once the person has the maximum', async () => {
    await admin.goto(`/cos/${coId}/service-token-settings`);
    await admin.getByRole('link', { name: 'Mail' }).click();
    await admin.getByLabel('Maximum tokens per person').fill('1');
    await admin.getByRole('button', { name: 'Save settings' }).click();
    await expectFlash(admin, 'Service token settings for Mail saved.');

    await grace.reload();
    const mail = grace.getByRole('region', { name: 'Mail' });
    const replace = mail.getByLabel(/You have the maximum of 1\. Replace/);
    assert.match((await replace.locator('option:checked').textContent()) ?? '', /^laptop mail client \(tst_…/);
    await mail.getByLabel('Label').fill('new laptop');
    const replaceAndGenerate = () => mail.getByRole('button', { name: 'Replace and generate' }).click();

    const asked = await submitConfirmed(grace, replaceAndGenerate, false);
    assert.equal(asked, 'The token you chose to replace stops working at once. Continue?');
    assert.match(grace.url(), /\/service-tokens$/, 'dismissing the dialog generated a token');

    await submitConfirmed(grace, replaceAndGenerate, true);
    assert.equal(await grace.getByRole('heading', { level: 1 }).textContent(), 'Your new token');
    assert.match((await grace.locator('#token-secret').textContent())!.trim(), TOKEN_FORMAT);
    await grace.getByRole('link', { name: 'Done' }).click();
    await grace.waitForURL(/\/service-tokens$/);
    assert.match(await grace.getByRole('row', { name: /new laptop/ }).innerText(), /active/);
    assert.match(await grace.getByRole('row', { name: /^laptop mail client/ }).innerText(), /revoked[\s\S]*\(replaced\)/);
  });

  it('signs the person out from the identity menu', async () => {
    await grace.locator('details.identity-menu summary').click();
    await Promise.all([grace.waitForURL((u) => u.pathname === '/'), grace.getByRole('button', { name: 'Sign out' }).click()]);
    await expectFlash(grace, 'You are signed out.');
    const tokensPath = `/cos/${coId}/people/${personId}/service-tokens`;
    const response = await grace.goto(tokensPath);
    assert.equal(response?.status(), 401, 'the token list needs signing in again');
    // The error page's link signs in and comes back to the page asked for.
    await grace.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
    await grace.getByLabel('Username').fill(GRACE.uid);
    await grace.getByLabel('Password').fill(GRACE.password);
    await Promise.all([grace.waitForURL((u) => u.pathname === tokensPath), grace.getByRole('button', { name: 'Sign in' }).click()]);
    assert.ok(!(await grace.content()).includes(secret));
  });
});
