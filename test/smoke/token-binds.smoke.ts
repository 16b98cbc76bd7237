// The smoke test CI runs on another Node.js (.ci/node-smoke.sh): start `tessera serve` as an
// operator would, create an API user with the command line, then through the REST API a CO, a
// person, a service with tokens, an LDAP target and a token target on a throwaway slapd; generate a
// token, and bind to slapd with it (ldapwhoami). Prints what it did; exits non-zero on any failure.
// Not a *.test.ts file: the suite does not run it; `node --import tsx test/smoke/token-binds.smoke.ts` does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSlapd } from '../support/slapd.ts';
import { privilegedApiUser, startTesseraServer } from '../support/browser.ts';
import { DEFAULT_TOKEN_TYPE_ID } from '../../src/plugins/service-tokens/formats/token-types.ts';

const execFileAsync = promisify(execFile);
const PEOPLE = 'ou=people,dc=example,dc=org';

const slapd = await startSlapd();
const server = await startTesseraServer();
try {
  await server.cli(['setup', '--username', 'admin', '--given-name', 'Ada']);
  const { authorization, api } = await privilegedApiUser(server, 'smoke');
  const co = await api<{ id: string }>('POST', '/api/v1/cos', { name: 'Smoke', description: '' });
  const person = await api<{ id: string }>('POST', `/api/v1/cos/${co.id}/people`, { name: { given: 'Alice' }, identifiers: [{ identifier: 'alice', type: 'uid', login: true }] });
  const service = await api<{ id: string }>('POST', `/api/v1/cos/${co.id}/services`, { name: 'Mail', shortLabel: 'mail' });
  await api('PUT', `/api/v1/cos/${co.id}/services/${service.id}/token-settings`, { enabled: true, tokenType: DEFAULT_TOKEN_TYPE_ID, storageScheme: 'SSHA512' });
  // The LDAP server is the platform's: created, then assigned to the CO (204, no body).
  const directory = await api<{ id: string }>('POST', '/api/v1/ldap-servers', { name: 'Directory', url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE] });
  const assigned = await fetch(`${server.url}/api/v1/ldap-servers/${directory.id}/cos/${co.id}`, { method: 'PUT', headers: { authorization } });
  assert.equal(assigned.status, 204);
  const ldap = await api<{ id: string }>('POST', `/api/v1/cos/${co.id}/provisioning-targets`, {
    provisionerType: 'ldap', description: 'Directory', ordinal: 10, retryIntervalSeconds: 5,
    config: { serverId: directory.id, baseDn: PEOPLE },
  });
  await api('POST', `/api/v1/cos/${co.id}/provisioning-targets`, {
    provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20, retryIntervalSeconds: 5,
    config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' },
  });
  const { secret } = await api<{ secret: string }>('POST', `/api/v1/cos/${co.id}/people/${person.id}/service-tokens`, { serviceId: service.id, label: 'laptop' });

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { stdout } = await execFileAsync('/usr/bin/ldapwhoami', ['-x', '-H', slapd.url, '-D', `uid=alice,${PEOPLE}`, '-w', secret], { timeout: 10_000 });
      process.stdout.write(`node ${process.version}: tessera serve generated a token; slapd binds with it (${stdout.trim()})\n`);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the token does not bind after 30 s: ${(error as Error).message}\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
} finally {
  await server.stop();
  await slapd.stop();
}
