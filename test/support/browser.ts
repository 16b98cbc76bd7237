// Browser test support: a real `tessera serve` started as a user starts it (the command, a SQLite
// file, a port, environment variables), the `tessera` command run against it, and Debian's Chromium
// driven by playwright-core.
//
// Contract: nothing is skipped. A missing Chromium is installed when we are root (as
// .ci/install-system-packages.sh would) and is otherwise an error saying how to install it.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onProcessExit, PortClashError, removeDirSync, retryOnPortClash, spawnDaemon, type Daemon } from './system-packages.ts';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Screenshots go to docs/screenshots (what the README shows) when TESSERA_UPDATE_SCREENSHOTS=1,
 * and otherwise to a temporary folder, so an ordinary test run leaves the work tree clean.
 */
export const SCREENSHOTS_DIR = process.env.TESSERA_UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'screenshots') : join(tmpdir(), 'tessera-screenshots');
const TESSERA = join(REPO_ROOT, 'bin', 'tessera.js');
const CHROMIUM = '/usr/bin/chromium';
const INSTALL_SCRIPT = '.ci/install-system-packages.sh';

export const DESKTOP = { width: 1200, height: 800 };
export const PHONE = { width: 390, height: 844 };

// ---------------------------------------------------------------------------------------------
// Chromium

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure Debian's Chromium is installed: as root it installs it (with a font, without which
 * text renders as boxes); otherwise a missing Chromium is an error naming the install script.
 */
export function requireChromium(): void {
  if (isExecutable(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is missing (${CHROMIUM}): run ${INSTALL_SCRIPT} as root, or apt-get install -y chromium fonts-liberation`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', 'chromium', 'fonts-liberation'], { env, stdio: 'pipe' });
  try {
    install();
  } catch {
    // A fresh image has no package lists yet.
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
    install();
  }
  if (!isExecutable(CHROMIUM)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
}

/** One headless Chromium per test file; close it in `after`. */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A fresh browser profile (its own cookies) at a desktop size, or at `viewport`. */
export async function newContext(browser: Browser, server: TesseraServer, viewport = DESKTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: server.url, viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Writes <SCREENSHOTS_DIR>/<name>.png: what the viewport shows now. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // Stable pixels: no blinking caret, no half-finished transition.
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

/** Asserts the page does not scroll sideways (what a phone user would have to do to read it). */
export async function assertNoHorizontalScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(scrollWidth <= innerWidth, `${where} scrolls sideways: ${scrollWidth}px of content in a ${innerWidth}px window`);
}

// ---------------------------------------------------------------------------------------------
// The server

export interface TesseraServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The `tessera serve` process (its pid, its exit). */
  readonly daemon: Daemon;
  /** Runs `tessera <args>` against the same database and key, as an operator would; returns stdout. */
  cli(args: string[], env?: Record<string, string>): Promise<string>;
  /** The server's stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Environment of the server and the CLI: ours only, nothing TESSERA_* inherited from the caller. */
function serverEnv(dir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) env[k] = v;
  return {
    ...env,
    TESSERA_DATABASE_URL: join(dir, 'tessera.sqlite'),
    TESSERA_SECRET_KEY_FILE: join(dir, 'secret.key'),
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PORT: String(port),
    TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TESSERA_LOG_LEVEL: 'warn',
  };
}

/**
 * Starts `node bin/tessera.js serve` on a fresh SQLite file in a temp dir and a free port, and
 * waits until /healthz answers; `extraEnv` adds or replaces variables. The server dies with the test process.
 */
/** A JSON call to the REST API as one API user: asserts a 2xx answer and returns its parsed body. */
export type ApiCaller = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * Creates a privileged platform API user on `server` with `tessera api-user create`, as an
 * operator would, and returns its key (shown once), its `Authorization` header (HTTP Basic) and
 * a caller as it.
 */
export async function privilegedApiUser(server: TesseraServer, username: string): Promise<{ key: string; authorization: string; api: ApiCaller }> {
  const printed = await server.cli(['api-user', 'create', '--username', username, '--privileged']);
  const key = /Key \(shown once, store it now\): (\S+)/.exec(printed)?.[1];
  assert.ok(key, printed);
  const authorization = `Basic ${Buffer.from(`${username}:${key}`).toString('base64')}`;
  const api: ApiCaller = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return { key, authorization, api };
}

export async function startTesseraServer(extraEnv: (port: number) => Record<string, string> = () => ({})): Promise<TesseraServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  const unregisterDir = onProcessExit(() => removeDirSync(dir));
  try {
    return await retryOnPortClash(async (port) => {
      const env = { ...serverEnv(dir, port), ...extraEnv(port) };
      const daemon = spawnDaemon({ command: process.execPath, args: [TESSERA, 'serve'], cwd: REPO_ROOT, env, stopSignal: 'SIGTERM', orphanSignal: 'SIGKILL' });
      const unregisterDaemon = onProcessExit(() => daemon.terminateSync());
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForHealth(url, daemon);
      } catch (error) {
        await daemon.stop();
        unregisterDaemon();
        if (/EADDRINUSE/.test(daemon.output())) throw new PortClashError(daemon.output());
        throw error;
      }
      return {
        url,
        port,
        daemon,
        output: daemon.output,
        cli: async (args, extra = {}) => {
          try {
            const { stdout } = await execFileAsync(process.execPath, [TESSERA, ...args], { cwd: REPO_ROOT, env: { ...env, ...extra }, encoding: 'utf8', timeout: 90_000 });
            return stdout;
          } catch (error) {
            const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
            throw new Error(`tessera ${args.join(' ')} failed: ${(error as Error).message}\n${stdout}${stderr}`);
          }
        },
        stop: async () => {
          await daemon.stop();
          unregisterDaemon();
          removeDirSync(dir);
          unregisterDir();
        },
      };
    });
  } catch (error) {
    removeDirSync(dir);
    unregisterDir();
    throw error;
  }
}

async function waitForHealth(url: string, daemon: Daemon, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.hasExited()) throw new Error(`tessera serve exited at start:\n${daemon.output()}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`tessera serve did not answer on ${url}/healthz within ${timeoutMs} ms:\n${daemon.output()}`);
}

// ---------------------------------------------------------------------------------------------
// What people do in the browser

/** Signs in on /sign-in with a local account and waits for the page it leads to. */
export async function signInAs(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/sign-in')), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Opens the identity menu (the name in the top bar) and follows one of its entries. */
export async function openIdentityMenuEntry(page: Page, name: string, entry: string): Promise<void> {
  const menu = page.locator('details.identity-menu');
  await menu.locator('summary', { hasText: name }).click();
  await menu.getByRole('link', { name: entry }).click();
  await page.waitForLoadState('domcontentloaded');
}

/** Submits a form whose button asks for confirmation, answering the dialog; returns its message. */
export async function submitConfirmed(page: Page, click: () => Promise<void>, accept: boolean): Promise<string> {
  const dialog = page.waitForEvent('dialog');
  const clicked = click();
  const d = await dialog;
  const message = d.message();
  assert.equal(d.type(), 'confirm');
  if (accept) {
    // The form posts and the browser follows the redirect: wait for the page it leads to.
    await Promise.all([page.waitForEvent('load'), d.accept()]);
  } else {
    await d.dismiss();
  }
  await clicked;
  return message;
}

// ---------------------------------------------------------------------------------------------
// An administrator setting up a CO in the browser (each helper starts from the CO's dashboard)

/** Creates a CO on /cos; returns its id (the browser is on the new CO's dashboard). */
export async function createCoInBrowser(page: Page, name: string, description: string): Promise<string> {
  await page.goto('/cos');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Description').fill(description);
  await Promise.all([page.waitForURL(/\/cos\/[^/]+$/), page.getByRole('button', { name: 'Create CO' }).click()]);
  await expectFlash(page, `CO ${name} created.`);
  return new URL(page.url()).pathname.split('/')[2]!;
}

/** Adds a person with a login identifier (uid) and an email; returns the person's id. */
export async function addPersonInBrowser(page: Page, coId: string, p: { given: string; family: string; uid: string; mail: string }): Promise<string> {
  await page.goto(`/cos/${coId}`);
  await page.getByRole('link', { name: /CO People/ }).click();
  await page.getByRole('link', { name: 'Add person' }).click();
  await page.getByLabel('Given name').fill(p.given);
  await page.getByLabel('Family name').fill(p.family);
  await page.getByLabel('Identifier', { exact: true }).fill(p.uid);
  await page.getByLabel('Identifier type').selectOption('uid');
  await page.getByLabel('Use this identifier to sign in').check();
  await page.getByLabel('Email address').fill(p.mail);
  await Promise.all([page.waitForURL(/\/people\/[^/]+$/), page.getByRole('button', { name: 'Add person' }).click()]);
  return new URL(page.url()).pathname.split('/')[4]!;
}

/** Creates a CO Service that knows people by their uid; returns its id. */
export async function addServiceInBrowser(page: Page, coId: string, s: { name: string; shortLabel: string; description: string }): Promise<string> {
  await page.goto(`/cos/${coId}`);
  await page.getByRole('link', { name: /CO Services/ }).click();
  await page.getByRole('link', { name: /create the first one|New service/ }).click();
  await page.getByLabel('Name').fill(s.name);
  await page.getByLabel('Description').fill(s.description);
  await page.getByLabel('Short label').fill(s.shortLabel);
  await page.getByLabel('Identifier type').selectOption('uid');
  await Promise.all([page.waitForURL(/\/services\/[^/]+$/), page.getByRole('button', { name: 'Create service' }).click()]);
  return new URL(page.url()).pathname.split('/')[4]!;
}

/** Enables tokens (default type and storage) for a service on Service token settings. */
export async function enableTokensInBrowser(page: Page, coId: string, serviceName: string): Promise<void> {
  await page.goto(`/cos/${coId}`);
  await page.getByRole('link', { name: /Service token settings/ }).click();
  await page.getByRole('link', { name: serviceName }).click();
  await page.getByLabel('People may have tokens for this service').check();
  await Promise.all([page.waitForURL(/\/service-token-settings$/), page.getByRole('button', { name: 'Save settings' }).click()]);
  await expectFlash(page, `Service token settings for ${serviceName} saved.`);
}

/** Asserts the flash message of the page. */
export async function expectFlash(page: Page, message: string): Promise<void> {
  const flash = await page.locator('.flash').first().textContent();
  assert.equal(flash?.trim(), message);
}
