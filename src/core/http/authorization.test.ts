import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, testConfig, everyRow, type Browser, type TestApp } from '../../../test/support/test-app.ts';
import { get, post } from '../../../test/support/web-pages.ts';
import { bundledPlugins } from '../../plugins/catalogue.ts';
import { buildService, enableTokens, tokenContext } from '../../plugins/service-tokens/service-token.test-support.ts';
import { generateServiceToken } from '../../plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../plugins/service-tokens/verification/verification-keys.service.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { createApiUser } from '../api-users/api-user.service.ts';
import type { Co } from '../cos/co.service.ts';
import { groupInput } from '../groups/group.schema.ts';
import { addMembership, createGroup } from '../groups/group.service.ts';
import { requestReprovision } from '../provisioning/provisioning.service.ts';
import { targetInput } from '../provisioning/target.schema.ts';
import { createTarget } from '../provisioning/target.service.ts';
import { addLdapServer } from '../../../test/support/ldap-servers.ts';

/** Every route of the app as [method, path pattern], read from Fastify's route tree. */
function routesOf(t: TestApp): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.depth >= depth) stack.pop();
    const parent = stack.at(-1)?.path ?? '';
    const path = parent === '' ? m[2]! : parent === '/' ? `/${m[2]}` : `${parent}${m[2]}`;
    stack.push({ depth, path });
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method, path]);
  }
  return out;
}

/**
 * Sweeps every web page and form of a CO with people who must not use it, so a route added later
 * without its guard shows up here: a member who is not an administrator, and the administrator of
 * another CO (with that CO's id in the URL and this CO's ids in the rest of it, and the other way).
 */
forEachDialect('Authorization of every web route', (dialect) => {
  const t = useTestApp(dialect, { plugins: bundledPlugins(testConfig()) });
  let coA: Co;
  let coB: Co;
  let member: Browser;
  let memberId: string;
  let adminB: Browser;
  let ids: Record<string, string>;

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    const memberPerson = await buildPerson(t, coA.id, { given: 'Mo' });
    member = await signIn(t, memberPerson.username);
    memberId = memberPerson.id;
    adminB = await signIn(t, (await buildPerson(t, coB.id, { admin: true })).username);
    const other = await buildPerson(t, coA.id, { given: 'Olive', email: 'olive@example.org' });
    const service = await buildService(t, coA.id);
    await enableTokens(t, coA.id, service.id);
    const { token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coA.id, other.id, { serviceId: service.id, label: 'laptop' });
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, coA.id, groupInput.parse({ name: 'Observers' }));
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, coA.id, group.id, { personId: other.id, member: true, owner: false });
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, coA.id, targetInput.parse({
      provisionerType: 'ldap',
      description: 'Directory',
      config: { serverId: await addLdapServer(t.ctx, { url: 'ldap://127.0.0.1:1', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'bind-secret', subtrees: ['ou=people,dc=example,dc=org'], coIds: [coA.id] }), baseDn: 'ou=people,dc=example,dc=org' },
    }));
    const { verifier } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, coA.id, service.id, 'git server');
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, coA.id, { personId: other.id });
    const job = await t.ctx.db.selectFrom('provisioning_job').select('id').where('batch_id', '=', batch.batchId).executeTakeFirstOrThrow();
    const { apiUser } = await createApiUser(t.ctx, SYSTEM_ACTOR, coA.id, { username: 'sync-a', privileged: true, allowedAddresses: '' });
    ids = {
      personId: other.id,
      tokenId: token.id,
      serviceId: service.id,
      groupId: group.id,
      membershipId: membership.id,
      targetId: target.id,
      verifierId: verifier.id,
      apiUserId: apiUser.id,
      partId: other.identifiers[0]!.id,
      jobId: job.id,
      batchId: batch.batchId,
      emailId: target.id,
    };
  });

  /** Every table's rows: what a refused request must leave as it was. */
  async function everything(): Promise<string> {
    return (await everyRow(t.db)).map(({ table, rows }) => `${table}: ${JSON.stringify(rows)}`).join('\n');
  }

  const fill = (path: string, coId: string) => path.replace(':coId', coId).replace(/:(\w+)/g, (_, name: string) => ids[name] ?? `missing-${name}`);

  /** What a form might post: enough that a refusal is about who asks, not about what was typed. */
  const values = (): Record<string, string> => ({
    name: 'Changed',
    description: 'changed',
    status: 'suspended',
    given: 'Eve',
    identifier: 'eve',
    identifierType: 'uid',
    type: 'uid',
    login: 'on',
    mail: 'eve@example.org',
    personId: ids.personId!,
    serviceId: ids.serviceId!,
    label: 'stolen',
    reason: 'because',
    username: 'eve-api',
    privileged: 'on',
    enabled: 'on',
    tokenType: 'tst',
    storageScheme: 'SSHA512',
    maxTokensPerPerson: '5',
    generation: 'self_and_admins',
    shortLabel: 'eve',
    visibility: 'co_member',
    provisionerType: 'ldap',
    mode: 'automatic',
    ordinal: '1',
  });

  /** Routes of a CO that people of the CO who are not administrators use themselves. */
  const OPEN_TO_MEMBERS = new Set(['GET /cos/:coId', 'GET /cos/:coId/service-tokens']);

  it('refuses a member who is not an administrator every other page and form of the CO, changing nothing', async () => {
    const routes = routesOf(t).filter(([, path]) => path.startsWith('/cos/:coId'));
    assert.ok(routes.length > 60, `${routes.length} routes`);
    const before = await everything();
    for (const [method, path] of routes) {
      const url = fill(path, coA.id);
      const res = method === 'GET' ? await get(t, url, member) : await post(t, url, member, values());
      if (OPEN_TO_MEMBERS.has(`${method} ${path}`)) continue;
      assert.ok([403, 404].includes(res.statusCode), `${method} ${url} as a member → ${res.statusCode}`);
    }
    assert.equal(await everything(), before, 'nothing changed');
    // The same browser and its forms do work where the member may act: the refusals were not about the form.
    const own = await post(t, `/cos/${coA.id}/people/${memberId}/service-tokens/generate`, member, { serviceId: ids.serviceId!, label: 'mine' });
    assert.equal(own.statusCode, 200, own.body.slice(0, 300));
  });

  it('refuses the administrator of another CO everything of this CO, however the ids are mixed', async () => {
    const routes = routesOf(t).filter(([, path]) => path.startsWith('/cos/:coId'));
    const before = await everything();
    for (const [method, path] of routes) {
      // CO A in the URL; and CO B (which they administer) with CO A's ids in the rest of the URL.
      for (const coId of [coA.id, coB.id]) {
        if (coId === coB.id && !/:(?!coId)\w+/.test(path)) continue;
        const url = fill(path, coId);
        const res = method === 'GET' ? await get(t, url, adminB) : await post(t, url, adminB, values());
        assert.equal(res.statusCode, 404, `${method} ${url} as another CO's administrator → ${res.statusCode}`);
      }
    }
    assert.equal(await everything(), before, 'nothing changed');
  });
});
