// SCIM clients for tests: requests as SRAM, Entra ID and Okta send them, against the in-process
// server (light-my-request), and the directory set-up every SCIM end-to-end test checks tokens in.
import assert from 'node:assert/strict';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addScimSource } from '../../src/core/sources/scim/scim-source.service.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { addLdapServer } from './ldap-servers.ts';
import type { SlapdInstance } from './slapd.ts';
import { buildApiUser, type TestApp } from './test-app.ts';

export const PEOPLE = 'ou=people,dc=example,dc=org';

export interface ScimResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

/** A SCIM client of one source: `path` is relative to the source's base (`/Users`, `/Groups/…`). */
export interface ScimClient {
  sourceId: string;
  baseUrl: string;
  token: string;
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ScimResponse>;
}

/** Adds a `scim` source to the CO and returns a client holding its token. */
export async function scimSource(t: TestApp, coId: string, opts: { name?: string; relativeLocation?: boolean; requestsPerMinute?: number; contentType?: string } = {}): Promise<ScimClient> {
  const { source, baseUrl, secret } = await addScimSource(t.ctx, SYSTEM_ACTOR, coId, {
    name: opts.name ?? `scim-${source_counter++}`,
    ...(opts.relativeLocation !== undefined ? { relativeLocation: opts.relativeLocation } : {}),
    ...(opts.requestsPerMinute !== undefined ? { requestsPerMinute: opts.requestsPerMinute } : {}),
  });
  const prefix = `/scim/v2/${source.id}`;
  return {
    sourceId: source.id,
    baseUrl,
    token: secret,
    send: async (method, path, body, headers = {}) => {
      const res = await t.app.inject({
        method: method as 'GET',
        url: `${prefix}${path}`,
        headers: { authorization: `Bearer ${secret}`, ...(body !== undefined ? { 'content-type': opts.contentType ?? 'application/scim+json' } : {}), ...headers },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      if (res.body !== '') assert.match(String(res.headers['content-type']), /^application\/scim\+json/, `${method} ${path}: ${res.body}`);
      return { status: res.statusCode, body: res.body === '' ? {} : (res.json() as Record<string, unknown>), headers: res.headers };
    },
  };
}
let source_counter = 1;

/** A URL-encoded filter query. */
export const filter = (f: string): string => `filter=${encodeURIComponent(f)}`;

/** PATCH body of RFC 7644 §3.5.2. */
export const patchOp = (...Operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations });

/**
 * A CO's directory: an LDAP target (entries named by uid) and a token target for one service with
 * tokens on; `groupId` restricts the service to a group. Returns the service.
 */
export async function directoryFor(t: TestApp, slapd: SlapdInstance, coId: string, opts: { groupId?: string } = {}): Promise<{ serviceId: string }> {
  const service = await buildService(t, coId, opts.groupId ? { coGroupId: opts.groupId } : {});
  await enableTokens(t, coId, service.id, { storageScheme: 'SSHA512', maxTokensPerPerson: 3 });
  const api = await buildApiUser(t, coId, true);
  const create = async (body: Record<string, unknown>) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${coId}/provisioning-targets`, headers: { authorization: api.authorization }, payload: body });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string };
  };
  const serverId = await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [coId] });
  const ldap = await create({ provisionerType: 'ldap', description: 'Directory', ordinal: 10, config: { serverId, baseDn: PEOPLE } });
  await create({ provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20, config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' } });
  return { serviceId: service.id };
}

/** A token for the person and service (as the system), its secret. */
export async function tokenOf(t: TestApp, coId: string, personId: string, serviceId: string): Promise<string> {
  return (await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, personId, { serviceId, label: `t${Date.now() % 100000}` })).secret;
}
