// Helpers for HTTP tests of the web UI: requests as a browser makes them, and reading pages.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { form, type Browser, type TestApp } from './test-app.ts';

export const XSS = `<script>alert(1)</script>"'`;

export function get(t: TestApp, url: string, browser?: Browser): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url, headers: browser?.headers ?? {} });
}

/** POSTs a form as the browser's page would: with its CSRF token unless `_csrf` is given. */
export function post(t: TestApp, url: string, browser: Browser | undefined, values: Record<string, string | undefined> = {}): Promise<LightMyRequestResponse> {
  const body = form({ _csrf: browser?.csrf, ...values });
  return t.app.inject({ method: 'POST', url, headers: { ...(browser?.headers ?? {}), ...body.headers }, payload: body.payload });
}

/** Follows a POST-redirect-GET: asserts the 303 and returns the page it leads to, flash included. */
export async function followRedirect(t: TestApp, response: LightMyRequestResponse, browser: Browser): Promise<LightMyRequestResponse> {
  assert.equal(response.statusCode, 303, `expected a redirect, got ${response.statusCode}: ${response.body.slice(0, 500)}`);
  const flash = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('tessera_flash='));
  const cookie = flash ? `${browser.headers.cookie}; ${flash.split(';')[0]}` : browser.headers.cookie;
  return t.app.inject({ method: 'GET', url: String(response.headers.location), headers: { cookie } });
}

function decode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The message shown under a field (`<small id="<fieldId>-msg">`), decoded. */
export function fieldMessage(html: string, fieldId: string): string | undefined {
  const m = new RegExp(`id="${fieldId}-msg" class="error">([^<]*)<`).exec(html);
  return m ? decode(m[1]!) : undefined;
}

/** What a form field shows: an input's value, a textarea's text, or a select's chosen option. */
export function fieldValue(html: string, fieldId: string): string | undefined {
  const input = new RegExp(`<input id="${fieldId}"[^>]*?(?: value="([^"]*)"| value(?=[ />]))`).exec(html);
  if (input) return decode(input[1] ?? '');
  const textarea = new RegExp(`<textarea id="${fieldId}"[^>]*>([^<]*)</textarea>`).exec(html);
  if (textarea) return decode(textarea[1]!);
  const select = new RegExp(`<select id="${fieldId}"[^>]*>(.*?)</select>`, 's').exec(html);
  if (select) {
    const chosen = /<option value="([^"]*)" selected/.exec(select[1]!);
    return chosen ? decode(chosen[1]!) : undefined;
  }
  return undefined;
}

/** The markup text never appears raw; its escaped form does (preact escapes `<`, `&` and `"`). */
export function assertEscaped(html: string, where: string): void {
  assert.ok(!html.includes('<script>alert'), `raw <script> on ${where}`);
  assert.ok(html.includes('&lt;script>alert(1)&lt;/script>'), `escaped text missing on ${where}`);
}
