// The web UI by keyboard alone and on a phone, in a real browser against `tessera serve`: a person
// reaches the identity menu and generates a token without a mouse, seeing where the focus is; the
// pages fit a phone's width. Writes the phone screenshot in docs/screenshots/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  addPersonInBrowser,
  addServiceInBrowser,
  assertNoHorizontalScroll,
  createCoInBrowser,
  enableTokensInBrowser,
  launchChromium,
  newContext,
  PHONE,
  screenshot,
  signInAs,
  startTesseraServer,
  type TesseraServer,
} from '../support/browser.ts';

const ADMIN = { username: 'admin', password: 'admin-password-1' };
const LIN = { given: 'Lin', family: 'Okafor-Lindqvist', uid: 'lin', mail: 'lin.okafor-lindqvist@example.org', password: 'lin-password-123' };
const CO_NAME = 'Marine Biology Consortium';

/** What has the keyboard focus: its tag, its text or label, and whether a focus ring shows. */
function focused(page: Page): Promise<{ tag: string; text: string; ringVisible: boolean; inMenu: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', text: '', ringVisible: false, inMenu: false };
    const style = getComputedStyle(el);
    const ringVisible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none';
    const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent ?? '' : '';
    return { tag: el.tagName.toLowerCase(), text: (el.textContent || label).trim(), ringVisible, inMenu: el.closest('.identity-menu') !== null };
  });
}

/** Presses Tab until `wanted` holds for the focused element (at most `limit` times). */
async function tabTo(page: Page, what: string, wanted: (f: Awaited<ReturnType<typeof focused>>) => boolean, limit = 40): Promise<Awaited<ReturnType<typeof focused>>> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (wanted(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

describe('keyboard and phone use', () => {
  let server: TesseraServer;
  let browser: Browser;
  let coId: string;
  let personId: string;

  before(async () => {
    [server, browser] = await Promise.all([startTesseraServer(), launchChromium()]);
    await Promise.all([
      server.cli(['setup', '--username', ADMIN.username, '--password-env', 'ADMIN_PASSWORD', '--given-name', 'Ada'], { ADMIN_PASSWORD: ADMIN.password }),
      server.cli(['account', 'set-password', '--username', LIN.uid, '--password-env', 'LIN_PASSWORD'], { LIN_PASSWORD: LIN.password }),
    ]);
    const admin = await (await newContext(browser, server)).newPage();
    await signInAs(admin, ADMIN.username, ADMIN.password);
    coId = await createCoInBrowser(admin, CO_NAME, 'Field stations on three coasts');
    personId = await addPersonInBrowser(admin, coId, LIN);
    await addServiceInBrowser(admin, coId, { name: 'Sequencing cluster (SSH and WebDAV)', shortLabel: 'seqcluster', description: 'Batch jobs and the shared data store' });
    await enableTokensInBrowser(admin, coId, 'Sequencing cluster (SSH and WebDAV)');
    await admin.context().close();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lets a person reach the identity menu and generate a token by keyboard alone, with the focus always visible', async () => {
    const page = await (await newContext(browser, server)).newPage();
    await signInAs(page, LIN.uid, LIN.password);
    await page.goto(`/cos/${coId}`);

    const skip = await tabTo(page, 'the skip link', (f) => f.text === 'Skip to content', 1);
    assert.ok(skip.ringVisible, 'the skip link shows a focus ring');
    const box = await page.getByRole('link', { name: 'Skip to content' }).boundingBox();
    assert.ok(box && box.x >= 0 && box.y >= 0, 'the focused skip link is on screen');

    const menu = await tabTo(page, 'the identity menu', (f) => f.tag === 'summary' && f.inMenu);
    assert.equal(menu.text, 'Lin Okafor-Lindqvist');
    assert.ok(menu.ringVisible, 'the identity menu shows a focus ring');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('details.identity-menu').getAttribute('open'), '');
    // Escape closes the open menu and leaves the focus on it.
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('details.identity-menu').getAttribute('open'), null);
    assert.equal((await focused(page)).tag, 'summary');
    await page.keyboard.press('Enter');

    const entry = await tabTo(page, 'the Service Tokens entry', (f) => f.inMenu && f.tag === 'a', 3);
    assert.equal(entry.text, `Service Tokens → ${CO_NAME}`);
    assert.ok(entry.ringVisible, 'the menu entry shows a focus ring');
    await Promise.all([page.waitForURL(/\/service-tokens$/), page.keyboard.press('Enter')]);

    await tabTo(page, 'the Label field', (f) => f.tag === 'input' && f.text.startsWith('Label'));
    await page.keyboard.type('workstation');
    const generate = await tabTo(page, 'the Generate button', (f) => f.tag === 'button' && f.text === 'Generate');
    assert.ok(generate.ringVisible, 'the Generate button shows a focus ring');
    await Promise.all([page.waitForURL(/\/generate$/), page.keyboard.press('Enter')]);
    assert.match((await page.locator('#token-secret').textContent()) ?? '', /^tst_/);

    // The copy button and Done are reachable too.
    const copy = await tabTo(page, 'the copy button', (f) => f.tag === 'button' && f.text === 'Copy to clipboard');
    assert.ok(copy.ringVisible);
    await page.context().close();
  });

  it('fits the pages into a phone’s width, the token list included', async () => {
    const context = await newContext(browser, server, PHONE);
    const page = await context.newPage();
    await signInAs(page, LIN.uid, LIN.password);
    await page.goto(`/cos/${coId}/people/${personId}/service-tokens`);
    const cluster = page.getByRole('region', { name: /Sequencing cluster/ });
    await cluster.getByLabel('Label').fill('phone mail app');
    await Promise.all([page.waitForURL(/\/generate$/), cluster.getByRole('button', { name: 'Generate' }).click()]);
    await assertNoHorizontalScroll(page, 'the token shown once');
    await screenshot(page, 'phone-token-shown-once');

    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL(/\/service-tokens$/);
    assert.match(await page.getByRole('row', { name: /phone mail app/ }).innerText(), /active/);
    await assertNoHorizontalScroll(page, 'the token list');
    await screenshot(page, 'phone-tokens');

    // The identity menu opens inside the screen.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator('details.identity-menu summary').click();
    const menu = await page.locator('.identity-menu .menu').boundingBox();
    assert.ok(menu && menu.x >= 0 && menu.x + menu.width <= PHONE.width, `the open identity menu fits the screen: ${JSON.stringify(menu)}`);
    await context.close();

    const adminContext = await newContext(browser, server, PHONE);
    const admin = await adminContext.newPage();
    await signInAs(admin, ADMIN.username, ADMIN.password);
    for (const path of [`/cos`, `/cos/${coId}`, `/cos/${coId}/people`, `/cos/${coId}/people/${personId}`, `/cos/${coId}/people/${personId}/service-tokens`, `/cos/${coId}/services`, `/cos/${coId}/service-token-settings`]) {
      await admin.goto(path);
      await assertNoHorizontalScroll(admin, path);
    }
    await adminContext.close();
  });
});
