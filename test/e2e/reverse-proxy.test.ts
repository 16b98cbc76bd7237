// `tessera serve` behind a real Apache httpd and a real nginx, each running its recipe from deploy/
// as it is, with TLS from a throwaway CA and HTTP Basic (a password file) as the stand-in for
// Shibboleth: the proxy's sign-in becomes the trusted header, a client cannot inject that header
// (through the proxy or around it), X-Forwarded-For is believed only from the proxy, an https public
// URL gives secure cookies and HSTS, and /metrics is for the monitoring host only.
//
// Addresses: clients connect from 127.0.0.2 (through the proxy) or 127.0.0.3 (straight to Tessera);
// the proxies reach Tessera from 127.0.0.1, the only trusted proxy.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { startTesseraServer, type TesseraServer } from '../support/browser.ts';
import { startReverseProxy, type ProxyKind, type ReverseProxy } from '../support/reverse-proxy.ts';
import { createTestCa, type TestCa } from '../support/tls-ca.ts';

const CLIENT = '127.0.0.2';
const STRANGER = '127.0.0.3';
const ADA = { user: 'ada', password: 'ada-proxy-password' };
const MALLORY = { user: 'mallory', password: 'mallory-proxy-password' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

for (const kind of ['apache', 'nginx'] satisfies ProxyKind[]) {
  describe(`behind ${kind === 'apache' ? 'Apache httpd' : 'nginx'} (deploy/${kind}/tessera.conf)`, () => {
    let ca: TestCa;
    let server: TesseraServer;
    let proxy: ReverseProxy;
    before(async () => {
      ca = await createTestCa();
      server = await startTesseraServer(() => ({
        TESSERA_PUBLIC_URL: 'https://127.0.0.1',
        TESSERA_TRUSTED_HEADER: 'X-Remote-User',
        TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: 'uid',
        TESSERA_TRUSTED_PROXIES: '127.0.0.1',
        TESSERA_LOG_LEVEL: 'info',
      }));
      await server.cli(['setup', '--username', 'ada', '--given-name', 'Ada']);
      proxy = await startReverseProxy(kind, { backend: `127.0.0.1:${server.port}`, tls: await ca.issue('proxy', ['127.0.0.1']), users: { [ADA.user]: ADA.password, [MALLORY.user]: MALLORY.password } });
    });
    after(async () => {
      await proxy?.stop();
      await server?.stop();
      await ca?.remove();
    });

    /** A request through the proxy (https, from CLIENT unless said) or straight to Tessera (http). */
    function send(route: 'proxy' | 'direct', path: string, options: { headers?: Record<string, string>; as?: { user: string; password: string }; from?: string } = {}): Promise<Answer> {
      const headers = { ...options.headers, ...(options.as ? { authorization: `Basic ${Buffer.from(`${options.as.user}:${options.as.password}`).toString('base64')}` } : {}) };
      const from = options.from ?? (route === 'proxy' ? CLIENT : STRANGER);
      return new Promise((resolve, reject) => {
        const onResponse = (res: import('node:http').IncomingMessage) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        };
        const req =
          route === 'proxy'
            ? httpsRequest({ host: '127.0.0.1', port: proxy.port, path, headers, localAddress: from, ca: ca.caPem, agent: false }, onResponse)
            : httpRequest({ host: '127.0.0.1', port: server.port, path, headers, localAddress: from, agent: false }, onResponse);
        req.on('error', reject);
        req.end();
      });
    }

    /**
     * The address Tessera believed a request came from (request.ip), from its request log line;
     * the line may reach us a moment after the answer (it goes through a pipe), so wait up to 5 s.
     */
    async function believedAddress(marker: string): Promise<string | undefined> {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
        for (const line of server.output().split('\n')) {
          if (!line.startsWith('{') || !line.includes(marker)) continue;
          const entry = JSON.parse(line) as { msg?: string; req?: { url?: string; remoteAddress?: string } };
          if (entry.msg === 'incoming request' && entry.req?.url?.includes(marker)) return entry.req.remoteAddress;
        }
      }
      return undefined;
    }

    const signedInAsAda = (body: string) => /<summary>Ada<\/summary>/.test(body);

    it('signs people in through the proxy’s own authentication', async () => {
      const anonymous = await send('proxy', '/cos');
      assert.equal(anonymous.status, 401);
      assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm="Tessera"/);
      const ada = await send('proxy', '/cos', { as: ADA });
      assert.equal(ada.status, 200);
      assert.ok(signedInAsAda(ada.body), 'the proxy’s user is signed in to Tessera');
    });

    it('never lets a client set the trusted header, through the proxy or around it', async () => {
      const viaProxy = await send('proxy', '/cos', { as: MALLORY, headers: { 'X-Remote-User': 'ada' } });
      assert.ok(viaProxy.status < 500, viaProxy.body);
      assert.ok(!signedInAsAda(viaProxy.body), 'mallory stays mallory');
      const lowerCase = await send('proxy', '/cos', { as: MALLORY, headers: { 'x-remote-user': 'ada', 'X-REMOTE-USER': 'ada' } });
      assert.ok(!signedInAsAda(lowerCase.body));
      const apiPath = await send('proxy', '/healthz', { headers: { 'X-Remote-User': 'ada' } });
      assert.equal(apiPath.status, 200, 'public paths need no proxy sign-in');
      const around = await send('direct', '/cos', { headers: { 'X-Remote-User': 'ada' } });
      assert.ok(!signedInAsAda(around.body), 'a client reaching Tessera directly is not believed');
      // The same header from the proxy's own address is believed: the refusals above are not an accident.
      const fromProxyAddress = await send('direct', '/cos', { headers: { 'X-Remote-User': 'ada' }, from: '127.0.0.1' });
      assert.ok(signedInAsAda(fromProxyAddress.body));
    });

    it('believes X-Forwarded-For only from the proxy, and only what the proxy saw', async () => {
      const spoofed = { 'X-Forwarded-For': '198.51.100.7' };
      await send('proxy', `/healthz?via-${kind}`, { headers: spoofed });
      assert.equal(await believedAddress(`via-${kind}`), CLIENT, 'the client’s own address, not the one it claimed');
      await send('direct', `/healthz?around-${kind}`, { headers: spoofed });
      assert.equal(await believedAddress(`around-${kind}`), STRANGER, 'a direct client’s X-Forwarded-For is ignored');
    });

    it('with an https public URL, sets secure cookies and HSTS', async () => {
      const page = await send('proxy', '/cos', { as: ADA });
      assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');
      const cookies = [page.headers['set-cookie'] ?? []].flat();
      assert.ok(cookies.length > 0, 'a CSRF cookie is set');
      for (const cookie of cookies) assert.match(cookie, /; Secure/i, cookie);
      for (const cookie of cookies) assert.match(cookie, /; HttpOnly/i, cookie);
    });

    it('keeps /metrics for the monitoring host', async () => {
      assert.equal((await send('proxy', '/metrics')).status, 403);
      const local = await send('proxy', '/metrics', { from: '127.0.0.1' });
      assert.equal(local.status, 200);
      assert.match(local.body, /^# TYPE tessera_http_requests_total counter$/m);
    });
  });
}
