// The authorization matrix: every route Fastify has (read from its route tree, so a route added
// later is in it without a word here) is called by each kind of caller, and the answer must be
// the one the table below declares for the route's pattern: refused (401, 403, 404, or a redirect
// to sign in) with every table's rows left as they were, or allowed (any other answer under 500).
// A route the table does not declare fails the test, naming the route.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildApiUser, buildCo, buildPerson, everyRow, forEachDialect, form, signIn, testConfig, useTestApp, type Browser, type TestApp } from '../../../test/support/test-app.ts';
import { bundledPlugins } from '../../plugins/catalogue.ts';
import { buildService, enableTokens, tokenContext } from '../../plugins/service-tokens/service-token.test-support.ts';
import { generateServiceToken } from '../../plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../plugins/service-tokens/verification/verification-keys.service.ts';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { setupPlatformAdmin } from '../auth/setup.service.ts';
import { createApiUser } from '../api-users/api-user.service.ts';
import { groupInput } from '../groups/group.schema.ts';
import { addMembership, createGroup } from '../groups/group.service.ts';
import { requestReprovision } from '../provisioning/provisioning.service.ts';
import { targetInput } from '../provisioning/target.schema.ts';
import { createTarget } from '../provisioning/target.service.ts';
import { addLdapServer } from '../../../test/support/ldap-servers.ts';
import { addScimSource } from '../sources/scim/scim-source.service.ts';
import { listScimTokens } from '../sources/scim/scim-token.service.ts';

/** Who calls. "A" is the CO every URL names; "B" is another CO. */
const ROLES = [
  'anonymous',
  'member of B',
  'member of A',
  'self',
  'admin of B',
  'admin of A',
  'platform admin',
  'API user of A',
  'privileged API user of A',
  'API user of B',
  'privileged API user of B',
] as const;
type Role = (typeof ROLES)[number];

/** Who may: the roles a route allows; every other role is refused. */
const ONLY = {
  everyone: [...ROLES],
  people: ['member of B', 'member of A', 'self', 'admin of B', 'admin of A', 'platform admin'],
  membersOfA: ['member of A', 'self', 'admin of A', 'platform admin'],
  selfOrAdmins: ['self', 'admin of A', 'platform admin'],
  adminsOfA: ['admin of A', 'platform admin'],
  platformAdmin: ['platform admin'],
  apiUsers: ['API user of A', 'privileged API user of A', 'API user of B', 'privileged API user of B'],
  apiReadersOfA: ['API user of A', 'privileged API user of A'],
  apiWritersOfA: ['privileged API user of A'],
  // Verification keys and platform API users are no role here: everyone listed is refused.
  nobody: [],
} satisfies Record<string, readonly Role[]>;

/** Routes whose answer depends on what is posted, not on who asks (signing in and out). */
const ANY_ANSWER: readonly Role[] = [];

/**
 * The declared expectation of every route, as [pattern over "METHOD /path/:param", who may]. The
 * first pattern that matches wins. A new route must be added here: the test names it.
 */
const EXPECTATIONS: Array<[RegExp, readonly Role[]]> = [
  // Public pages, assets, health and the API description.
  [/^GET \/(assets\/.*|healthz|readyz|metrics|api\/openapi\.json|sign-in)?$/, ONLY.everyone],
  // Signing in and out: every caller gets an answer of its own (a wrong password, a missing CSRF
  // token); nothing is asserted but that it is not a failure of the server.
  [/^POST \/(sign-in|sign-out)$/, ANY_ANSWER],
  // SCIM sources' endpoints: the source's bearer token, which no role here holds.
  [/^\w+ \/scim\/v2\/:sourceId(\/.*)?$/, ONLY.nobody],
  // Services' verification: a verification key, which no role here holds.
  [/^\w+ \/api\/v1\/service-tokens\/(verify|forward-auth)$/, ONLY.nobody],
  // LDAP servers are the platform's (its admins, and API users of the platform CO, which no role
  // here is); so is switching a target to adopt existing entries.
  [/^(GET|POST) \/platform\/(ldap-servers|ldap-targets)(\/.*)?$/, ONLY.platformAdmin],
  [/^\w+ \/api\/v1\/ldap-servers(\/.*)?$/, ONLY.nobody],
  [/^PUT \/api\/v1\/cos\/:coId\/provisioning-targets\/:targetId\/adopt-existing-entries$/, ONLY.nobody],
  // The API: any API user knows itself and lists the COs in its reach; creating a CO is the platform's.
  [/^GET \/api\/v1\/(me|cos)$/, ONLY.apiUsers],
  [/^POST \/api\/v1\/cos$/, ONLY.nobody],
  [/^PATCH \/api\/v1\/cos\/:coId$/, ONLY.nobody],
  // Reads of what only administrators see (directories, jobs, keys, history) need a privileged API user.
  [/^GET \/api\/v1\/cos\/:coId\/(people\/:personId\/provisioning|provisioning-targets|ldap-servers|services\/:serviceId\/verification-keys|history|reprovision|sources)(\/.*)?$/, ONLY.apiWritersOfA],
  [/^GET \/api\/v1\/cos\/:coId(\/.*)?$/, ONLY.apiReadersOfA],
  [/^(POST|PUT|PATCH|DELETE) \/api\/v1\/cos\/:coId\/.*$/, ONLY.apiWritersOfA],
  // Web: a person's notices; the list of their COs; making a CO is the platform's.
  [/^(GET|POST) \/notifications(\/.*)?$/, ONLY.people],
  [/^GET \/cos$/, ONLY.people],
  [/^POST \/cos$/, ONLY.platformAdmin],
  [/^(GET|POST) \/cos\/:coId\/edit$/, ONLY.platformAdmin],
  // A CO's dashboard and "Service Tokens → CO" for its people.
  [/^GET \/cos\/:coId(\/service-tokens)?$/, ONLY.membersOfA],
  // A person's own page and tokens: the person and the CO's administrators.
  [/^GET \/cos\/:coId\/people\/:personId$/, ONLY.selfOrAdmins],
  [/^(GET|POST) \/cos\/:coId\/people\/:personId\/service-tokens(\/.*)?$/, ONLY.selfOrAdmins],
  // Everything else of a CO is its administrators'.
  [/^(GET|POST) \/cos\/:coId\/.*$/, ONLY.adminsOfA],
];

/** The declared roles for a route, or undefined when no pattern matches. */
function expectationOf(method: string, path: string): readonly Role[] | undefined {
  return EXPECTATIONS.find(([pattern]) => pattern.test(`${method} ${path}`))?.[1];
}

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

type Caller = { kind: 'anonymous' } | { kind: 'browser'; browser: Browser } | { kind: 'api'; authorization: string };

/** One world: CO A with one of everything, CO B, and a caller of each role. */
interface World {
  coA: string;
  callers: Record<Role, Caller>;
  /** Values for the URL's parameters, by name (`:partId` and `:emailId` depend on the path). */
  ids: Record<string, string>;
}

/**
 * What a refused request must leave as it was: every table's rows, each table's rows sorted (so
 * PostgreSQL's row order after an update does not count as a change).
 */
async function snapshot(t: TestApp): Promise<string> {
  return (await everyRow(t.db)).map(({ table, rows }) => `${table}: ${rows.map((r) => JSON.stringify(r)).sort().join('\n  ')}`).join('\n');
}

/** A refusal: unauthenticated, forbidden, not found (a CO out of reach), or sent to sign in. */
function refused(res: LightMyRequestResponse): boolean {
  if ([401, 403, 404].includes(res.statusCode)) return true;
  return res.statusCode >= 300 && res.statusCode < 400 && String(res.headers.location ?? '').startsWith('/sign-in');
}

/** Routes that undo or remove (run last in an allowed sweep, deepest first, so they do not hide the others). */
function destroys(method: string, path: string): boolean {
  return method === 'DELETE' || /\/(delete|revoke|revoke-all|suspend)$/.test(path);
}

function deletes(method: string, path: string): number {
  return method === 'DELETE' || path.endsWith('/delete') ? 1 : 0;
}

forEachDialect('Authorization matrix of every route', (dialect) => {
  const t = useTestApp(dialect, { plugins: bundledPlugins(testConfig()) });
  let platformAdmin: Browser | undefined;

  async function world(): Promise<World> {
    if (!platformAdmin) {
      await setupPlatformAdmin(t.ctx, { username: 'root-admin', givenName: 'Root' });
      platformAdmin = await signIn(t, 'root-admin');
    }
    const coA = await buildCo(t);
    const coB = await buildCo(t);
    const self = await buildPerson(t, coA.id, { given: 'Olive', email: `olive-${newId().slice(0, 6)}@example.org` });
    const member = await buildPerson(t, coA.id, { given: 'Mo' });
    const adminA = await buildPerson(t, coA.id, { admin: true });
    const memberB = await buildPerson(t, coB.id);
    const adminB = await buildPerson(t, coB.id, { admin: true });
    const service = await buildService(t, coA.id);
    await enableTokens(t, coA.id, service.id);
    const { token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coA.id, self.id, { serviceId: service.id, label: 'laptop' });
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, coA.id, groupInput.parse({ name: 'Observers' }));
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, coA.id, group.id, { personId: self.id, member: true, owner: false });
    const serverId = await addLdapServer(t.ctx, { url: 'ldap://127.0.0.1:1', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'bind-secret', subtrees: ['ou=people,dc=example,dc=org'], coIds: [coA.id] });
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, coA.id, targetInput.parse({
      provisionerType: 'ldap',
      description: 'Directory',
      config: { serverId, baseDn: 'ou=people,dc=example,dc=org' },
    }));
    const { verifier } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, coA.id, service.id, 'git server');
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, coA.id, { personId: self.id });
    const job = await t.db.selectFrom('provisioning_job').select('id').where('batch_id', '=', batch.batchId).executeTakeFirstOrThrow();
    // A failed job, which administrators may retry.
    await t.db.updateTable('provisioning_job').set({ state: 'failed', attempts: 3, last_error: 'directory down' }).where('id', '=', job.id).execute();
    const { apiUser } = await createApiUser(t.ctx, SYSTEM_ACTOR, coA.id, { username: `sync-${newId().slice(0, 8)}`, privileged: false, allowedAddresses: '' });
    const emailId = newId();
    const scim = await addScimSource(t.ctx, SYSTEM_ACTOR, coA.id, { name: 'matrix SCIM' });
    const [scimToken] = await listScimTokens(t.ctx, SYSTEM_ACTOR, coA.id, scim.source.id);
    const now = t.clock.now().toISOString();
    // A source whose database cannot be reached: allowed callers get its errors, not a refusal.
    const sourceId = newId();
    await t.db.insertInto('source').values({
      id: sourceId, co_id: coA.id, kind: 'comanage-sql', name: `registry-${sourceId.slice(0, 6)}`, settings_encrypted: t.ctx.secretBox.seal(JSON.stringify({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', prefix: 'sp_', layout: 'v4' })),
      status: 'active', last_run_at: null, last_full_run_at: null, last_run_counts: null, last_error: null, watermark: null, progress: null, created_at: now, updated_at: now,
    }).execute();
    await t.db.insertInto('outbound_email').values({
      id: emailId, co_id: coA.id, notification_id: null, to_address: 'olive@example.org', subject: 'Notice', text_body: 'text', html_body: '<p>text</p>',
      state: 'failed', attempts: 5, run_after: now, locked_until: null, last_error: 'refused', created_at: now, sent_at: null,
    }).execute();
    const browser = async (username: string): Promise<Caller> => ({ kind: 'browser', browser: await signIn(t, username) });
    const api = async (coId: string, privileged: boolean): Promise<Caller> => ({ kind: 'api', authorization: (await buildApiUser(t, coId, privileged)).authorization });
    return {
      coA: coA.id,
      callers: {
        'anonymous': { kind: 'anonymous' },
        'member of B': await browser(memberB.username),
        'member of A': await browser(member.username),
        'self': await browser(self.username),
        'admin of B': await browser(adminB.username),
        'admin of A': await browser(adminA.username),
        'platform admin': { kind: 'browser', browser: platformAdmin },
        'API user of A': await api(coA.id, false),
        'privileged API user of A': await api(coA.id, true),
        'API user of B': await api(coB.id, false),
        'privileged API user of B': await api(coB.id, true),
      },
      ids: {
        personId: self.id,
        tokenId: token.id,
        serviceId: service.id,
        groupId: group.id,
        membershipId: membership.id,
        targetId: target.id,
        serverId,
        verifierId: verifier.id,
        apiUserId: apiUser.id,
        identifierId: self.identifiers[0]!.id,
        nameId: self.names[0]!.id,
        personEmailId: self.emails[0]!.id,
        outboundEmailId: emailId,
        jobId: job.id,
        batchId: batch.batchId,
        sourceId,
        scimSourceId: scim.source.id,
        scimTokenId: scimToken!.id,
        id: newId(),
      },
    };
  }

  function urlOf(w: World, path: string): string {
    return path.replace(/:(\w+)/g, (_, name: string) => {
      if (name === 'coId') return w.coA;
      if (name === 'partId') return w.ids[/\/names\//.test(path) ? 'nameId' : /\/emails\//.test(path) ? 'personEmailId' : 'identifierId']!;
      if (name === 'tokenId' && path.includes('/scim-tokens/')) return w.ids.scimTokenId!;
      if (name === 'sourceId' && (path.includes('/scim-tokens') || path.startsWith('/scim/'))) return w.ids.scimSourceId!;
      if (name === 'emailId') return w.ids[path.includes('/failures/emails/') ? 'outboundEmailId' : 'personEmailId']!;
      return w.ids[name] ?? `missing-${name}`;
    });
  }

  /** What a form might post: enough that a refusal is about who asks, not about what was typed. */
  const values = (w: World): Record<string, string> => ({
    name: 'Changed', description: 'changed', status: 'active', given: 'Eve', identifier: `eve${newId().slice(0, 6)}`, identifierType: 'uid', type: 'uid',
    login: 'on', mail: 'eve@example.org', coId: w.coA, personId: w.ids.personId!, serviceId: w.ids.serviceId!, label: 'matrix', reason: 'because',
    username: `eve-api-${newId().slice(0, 6)}`, privileged: 'on', enabled: 'on', tokenType: 'tst', storageScheme: 'SSHA512', maxTokensPerPerson: '5',
    generation: 'self_and_admins', shortLabel: `eve${newId().slice(0, 6)}`, visibility: 'co_member', provisionerType: 'ldap', mode: 'automatic', ordinal: '1',
  });

  async function call(w: World, role: Role, method: string, path: string): Promise<LightMyRequestResponse> {
    const caller = w.callers[role];
    const url = urlOf(w, path);
    const headers: Record<string, string> = {};
    if (caller.kind === 'browser') headers.cookie = caller.browser.headers.cookie;
    if (caller.kind === 'api') headers.authorization = caller.authorization;
    const hasBody = !['GET', 'DELETE', 'OPTIONS'].includes(method);
    if (path.startsWith('/api/')) {
      // A well-formed verification, so its refusal is about the missing key, not the body.
      const payload = path.endsWith('/verify') ? JSON.stringify({ identifier: 'someone', token: 'not-a-token' }) : '{}';
      return t.app.inject({ method: method as 'GET', url, headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) }, ...(hasBody ? { payload } : {}) });
    }
    if (!hasBody) return t.app.inject({ method: method as 'GET', url, headers });
    const body = form({ _csrf: caller.kind === 'browser' ? caller.browser.csrf : undefined, ...values(w) });
    return t.app.inject({ method: method as 'POST', url, headers: { ...headers, ...body.headers }, payload: body.payload });
  }

  it('declares the expected answer of every route', () => {
    const routes = routesOf(t);
    assert.ok(routes.length > 100, `${routes.length} routes`);
    const undeclared = routes.filter(([method, path]) => !expectationOf(method, path)).map(([method, path]) => `${method} ${path}`);
    assert.deepEqual(undeclared, [], `routes without an expectation in EXPECTATIONS of src/core/http/authorization-matrix.test.ts:\n${undeclared.join('\n')}`);
  });

  for (const role of ROLES) {
    it(`answers ${role} as declared on every route, changing nothing when refusing`, async () => {
      const w = await world();
      const routes = routesOf(t).filter(([method, path]) => expectationOf(method, path) !== undefined);
      const mayCall = (method: string, path: string) => expectationOf(method, path)!.includes(role);
      const wrong: string[] = [];

      const before = await snapshot(t);
      for (const [method, path] of routes.filter(([m, p]) => !mayCall(m, p) && expectationOf(m, p) !== ANY_ANSWER)) {
        const res = await call(w, role, method, path);
        if (!refused(res)) wrong.push(`${method} ${path}: ${res.statusCode}, expected a refusal ${res.body.slice(0, 120)}`);
      }
      assert.equal(await snapshot(t), before, `a refused request by ${role} changed nothing`);

      const allowed = routes.filter(([m, p]) => mayCall(m, p));
      // Last, as signing out ends the session the other calls use.
      const anyAnswer = routes.filter(([m, p]) => expectationOf(m, p) === ANY_ANSWER).sort(([, a]) => (a === '/sign-out' ? 1 : -1));
      const ordered = [
        ...allowed.filter(([m, p]) => !destroys(m, p)),
        // Deletions after revocations and suspensions, each deepest first.
        ...allowed.filter(([m, p]) => destroys(m, p)).sort(([ma, a], [mb, b]) => deletes(ma, a) - deletes(mb, b) || b.split('/').length - a.split('/').length),
      ];
      for (const [method, path] of ordered) {
        const res = await call(w, role, method, path);
        if (refused(res) || res.statusCode >= 500) wrong.push(`${method} ${path}: ${res.statusCode}, expected to be allowed ${res.body.slice(0, 200)}`);
      }
      for (const [method, path] of anyAnswer) {
        const res = await call(w, role, method, path);
        if (res.statusCode >= 500) wrong.push(`${method} ${path}: ${res.statusCode}, a failure of the server`);
      }
      assert.deepEqual(wrong, [], `${role}:\n${wrong.join('\n')}`);
    });
  }
});
