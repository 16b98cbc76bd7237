// The rules every entry point applies to what it is given (core/text.ts), tried as a new user
// would, over the REST API, the web forms and the services the CLI calls, on SQLite and PostgreSQL:
// identifiers are one identity however they are spelt (case, Unicode form), text is clean, and
// date-times are RFC 3339 with an offset.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { resolvePersonActor } from '../../src/core/auth/principal.service.ts';
import { setupPlatformAdmin } from '../../src/core/auth/setup.service.ts';
import { AppError } from '../../src/core/errors/app-error.ts';
import { createPerson } from '../../src/core/people/person.service.ts';
import { RFC3339_MESSAGE } from '../../src/core/text.ts';
import { newId } from '../../src/db/ids.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import { apiAs, snapshotRegistry, type ApiCall } from '../support/api-client.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, form, signIn, useTestApp } from '../support/test-app.ts';

interface ApiError {
  error: { code: string; field?: string; message: string };
}

forEachDialect('Input rules', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin()] });
  let coId: string;
  let api: ApiCall;
  const people = () => `/api/v1/cos/${coId}/people`;

  before(async () => {
    coId = (await buildCo(t)).id;
    api = apiAs(t, (await buildApiUser(t, coId, true)).authorization);
  });

  async function adminBrowser() {
    const admin = await buildPerson(t, coId, { admin: true });
    return signIn(t, admin.username);
  }

  describe('an identifier is one identity however it is spelt', () => {
    it('refuses a case variant of a uid with 409 over the API, for a new person and for an added identifier', async () => {
      const tag = newId().slice(0, 6);
      const ada = await api('POST', people(), { name: { given: 'Ada' }, identifiers: [{ identifier: `adaq${tag}`, type: 'uid', login: true }] });
      assert.equal(ada.status, 201);
      const before = await snapshotRegistry(t);
      const bo = await api('POST', people(), { name: { given: 'Bo' }, identifiers: [{ identifier: `AdaQ${tag}`, type: 'uid', login: true }] });
      assert.equal(bo.status, 409);
      const { error } = bo.body as ApiError;
      assert.deepEqual([error.code, error.field], ['IDENTIFIER_TAKEN', 'identifiers.0.identifier']);
      assert.equal(error.message, `The uid identifier "AdaQ${tag}" exists already in this CO as "adaq${tag}": the directory ignores case and Unicode form, so they would name one entry`);
      assert.deepEqual(await snapshotRegistry(t), before, 'nothing was created');

      const other = await buildPerson(t, coId);
      const added = await api('POST', `${people()}/${other.id}/identifiers`, { identifier: `ADAQ${tag}`, type: 'uid' });
      assert.equal(added.status, 409);
      assert.deepEqual([(added.body as ApiError).error.code, (added.body as ApiError).error.field], ['IDENTIFIER_TAKEN', 'identifier']);
      // Other types are other identities; for oidcsub case matters.
      assert.equal((await api('POST', `${people()}/${other.id}/identifiers`, { identifier: `AdaQ${tag}`, type: 'eppn' })).status, 201);
      assert.equal((await api('POST', `${people()}/${other.id}/identifiers`, { identifier: `sub-${tag}`, type: 'oidcsub' })).status, 201);
      assert.equal((await api('POST', `${people()}/${other.id}/identifiers`, { identifier: `SUB-${tag}`, type: 'oidcsub' })).status, 201);
      assert.equal((await api('POST', `${people()}/${other.id}/identifiers`, { identifier: `sub-${tag}`, type: 'oidcsub' })).status, 409);
    });

    it('refuses the NFD spelling of an NFC identifier, and stores names and identifiers in NFC', async () => {
      const tag = newId().slice(0, 6);
      const nfc = `zo\u00eb${tag}`;
      const nfd = `zoe\u0308${tag}`;
      const first = await api('POST', people(), { name: { given: 'Zoe\u0308', family: 'Mu\u0308ller' }, identifiers: [{ identifier: nfd, type: 'uid' }] });
      assert.equal(first.status, 201);
      const row = await t.ctx.db.selectFrom('identifier').select(['identifier', 'match_key']).where('co_id', '=', coId).where('match_key', '=', nfc).executeTakeFirstOrThrow();
      assert.equal(row.identifier, nfc, 'stored in NFC');
      const name = await t.ctx.db.selectFrom('name').select(['given', 'family']).where('person_id', '=', (first.body as { id: string }).id).executeTakeFirstOrThrow();
      assert.deepEqual(name, { given: 'Zo\u00eb', family: 'M\u00fcller' });
      const twin = await api('POST', people(), { name: { given: 'Zoë' }, identifiers: [{ identifier: nfc, type: 'uid' }] });
      assert.equal(twin.status, 409);
      // A twin within one request too.
      const pair = await api('POST', people(), { name: { given: 'Pair' }, identifiers: [{ identifier: `pair${tag}`, type: 'uid' }, { identifier: `PAIR${tag}`, type: 'uid' }] });
      assert.deepEqual([pair.status, (pair.body as ApiError).error.field], [409, 'identifiers.1.identifier']);
    });

    it('refuses a case variant on the add-person form with the message on the identifier field', async () => {
      const browser = await adminBrowser();
      const holder = await buildPerson(t, coId);
      const body = form({ _csrf: browser.csrf, status: 'active', given: 'Bo', identifier: holder.username.toUpperCase(), identifierType: 'uid', login: 'on' });
      const res = await t.app.inject({ method: 'POST', url: `/cos/${coId}/people`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
      assert.equal(res.statusCode, 409);
      assert.match(res.body, /id="f-identifier"[^>]*aria-invalid="true"/);
      assert.match(res.body, /exists already in this CO as &quot;user-/);
    });

    it('signs in a username as the login identifier the directory takes it for', async () => {
      const ada = await buildPerson(t, coId, { username: `ada${newId().slice(0, 6)}` });
      const actor = await resolvePersonActor(t.ctx.db, { type: 'uid', value: ada.username.toUpperCase() }, t.clock.now());
      assert.equal(actor.personIds[coId], ada.id);
      const sub = `Sub${newId().slice(0, 6)}`;
      const oidc = await createPerson(t.ctx, SYSTEM_ACTOR, coId, { status: 'active', name: { given: 'Oi' }, identifiers: [{ identifier: sub, type: 'oidcsub', login: true }], emails: [] });
      assert.equal((await resolvePersonActor(t.ctx.db, { type: 'oidcsub', value: sub }, t.clock.now())).personIds[coId], oidc.id);
      assert.equal((await resolvePersonActor(t.ctx.db, { type: 'uid', value: sub }, t.clock.now())).personIds[coId], undefined, 'a uid sign-in never reaches an oidcsub identifier');
      assert.equal((await resolvePersonActor(t.ctx.db, { type: 'oidcsub', value: sub.toLowerCase() }, t.clock.now())).personIds[coId], undefined, 'an OpenID sub is case-sensitive');
    });

    it('verifies a token presented with the identifier in another case or Unicode form, as a bind would', async () => {
      const service = await buildService(t, coId);
      await enableTokens(t, coId, service.id);
      const uid = `zo\u00eb${newId().slice(0, 6)}`;
      const zoe = await createPerson(t.ctx, SYSTEM_ACTOR, coId, { status: 'active', name: { given: 'Zoë' }, identifiers: [{ identifier: uid, type: 'uid', login: true }], emails: [] });
      const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, coId, service.id, 'wiki');
      const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, zoe.id, { serviceId: service.id, label: 'laptop' });
      for (const spelling of [uid, uid.toUpperCase(), uid.normalize('NFD'), uid.normalize('NFD').toUpperCase()]) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: spelling, token: secret } });
        assert.equal(res.statusCode, 200);
        assert.deepEqual([res.json().valid, res.json().person?.identifier], [true, uid], spelling);
      }
    });
  });

  describe('text is clean', () => {
    it('refuses control characters in names and identifiers over the API, naming the field and the character', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ name: { given: 'Ada', family: 'Quill\nJr' } }, 'name.family'],
        [{ name: { given: 'Ada\u0000' } }, 'name.given'],
        [{ name: { given: 'Ada' }, identifiers: [{ identifier: 'ada\nq3', type: 'uid' }] }, 'identifiers.0.identifier'],
        [{ name: { given: 'Ada', suffix: 'Jr\u0085' } }, 'name.suffix'],
      ];
      for (const [body, field] of cases) {
        const res = await api('POST', people(), body);
        assert.equal(res.status, 400, JSON.stringify(body));
        const { error } = res.body as ApiError;
        assert.deepEqual([error.code, error.field], ['VALIDATION_FAILED', field]);
        assert.match(error.message, /Contains a control character, U\+00(0A \(line feed\)|00 \(NUL\)|85)/);
      }
      const p = await buildPerson(t, coId);
      const name = await api('POST', `${people()}/${p.id}/names`, { given: 'Bo', family: 'A\rB' });
      assert.deepEqual([name.status, (name.body as ApiError).error.field], [400, 'family']);
      const group = await api('POST', `/api/v1/cos/${coId}/groups`, { name: 'wiki\nadmins' });
      assert.deepEqual([group.status, (group.body as ApiError).error.field], [400, 'name']);
      const label = `svc${newId().slice(0, 6)}`;
      const service = { name: `Wiki ${label}`, shortLabel: label, description: 'Line one\nline two', identifierType: 'uid' };
      const multi = await api('POST', `/api/v1/cos/${coId}/services`, service);
      assert.equal(multi.status, 201, `a service's description (a text area) may have several lines: ${JSON.stringify(multi.body)}`);
      const oneLine = await api('POST', `/api/v1/cos/${coId}/services`, { ...service, shortLabel: `${label}x`, name: 'Wiki\nAdmin' });
      assert.deepEqual([oneLine.status, (oneLine.body as ApiError).error.field], [400, 'name']);
      const nul = await api('POST', `/api/v1/cos/${coId}/services`, { ...service, shortLabel: `${label}y`, description: 'a\u0000b' });
      assert.deepEqual([nul.status, (nul.body as ApiError).error.field], [400, 'description']);
    });

    it('refuses an identifier too long to name a directory entry, up front', async () => {
      const res = await api('POST', people(), { name: { given: 'Long' }, identifiers: [{ identifier: 'a'.repeat(250), type: 'uid' }] });
      assert.equal(res.status, 400);
      assert.equal((res.body as ApiError).error.field, 'identifiers.0.identifier');
      assert.match((res.body as ApiError).error.message, /Too long to name a directory entry: 250 octets of UTF-8, at most 200/);
      const p = await buildPerson(t, coId);
      assert.equal((await api('POST', `${people()}/${p.id}/identifiers`, { identifier: 'ä'.repeat(101), type: 'eppn' })).status, 400);
    });

    it('answers 400, never 500, to a NUL in the verification-key and token forms and in every API body', async () => {
      const service = await buildService(t, coId);
      await enableTokens(t, coId, service.id);
      const browser = await adminBrowser();
      const keyForm = form({ _csrf: browser.csrf, label: 'a\u0000b' });
      const key = await t.app.inject({ method: 'POST', url: `/cos/${coId}/service-token-settings/${service.id}/verification-keys`, headers: { ...browser.headers, ...keyForm.headers }, payload: keyForm.payload });
      assert.equal(key.statusCode, 400, key.body.slice(0, 300));
      const me = await buildPerson(t, coId);
      const mine = await signIn(t, me.username);
      const page = await t.app.inject({ method: 'GET', url: `/cos/${coId}/people/${me.id}/service-tokens`, headers: mine.headers });
      const nonce = /name="nonce" value="([^"]+)"/.exec(page.body)![1]!;
      for (const fields of [{ label: 'a\u0000b' }, { label: 'ok', serviceId: `${service.id}\u0000` }, { label: 'line\nbreak' }]) {
        const gen = form({ _csrf: mine.csrf, serviceId: service.id, lifetimeDays: '', nonce, ...fields });
        const res = await t.app.inject({ method: 'POST', url: `/cos/${coId}/people/${me.id}/service-tokens/generate`, headers: { ...mine.headers, ...gen.headers }, payload: gen.payload });
        assert.equal(res.statusCode, 400, JSON.stringify(fields));
      }
      const apiKey = await api('POST', `/api/v1/cos/${coId}/services/${service.id}/verification-keys`, { label: 'a\u0000b' });
      assert.deepEqual([apiKey.status, (apiKey.body as ApiError).error.field], [400, 'label']);
      const token = await api('POST', `/api/v1/cos/${coId}/people/${me.id}/service-tokens`, { serviceId: service.id, label: 'tab\there' });
      assert.deepEqual([token.status, (token.body as ApiError).error.field], [400, 'label']);
      const verify = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: 'Bearer tsv_x' }, payload: { identifier: 'a\u0000', token: 'x' } });
      assert.ok(verify.statusCode < 500, String(verify.statusCode));
    });

    it('applies the rule to what setup is given on the command line', async () => {
      await assert.rejects(setupPlatformAdmin(t.ctx, { username: `admin${newId().slice(0, 4)}`, givenName: 'Ada\nLovelace' }), (e: unknown) => e instanceof AppError && e.field === 'givenName');
      await assert.rejects(setupPlatformAdmin(t.ctx, { username: 'ad\u001bmin', givenName: 'Ada' }), (e: unknown) => e instanceof AppError && e.field === 'username');
    });
  });

  describe('date-times are RFC 3339 with an offset', () => {
    it('refuses impossible dates, missing offsets, numbers, years and dates on every date field of the API', async () => {
      const service = await buildService(t, coId);
      await enableTokens(t, coId, service.id, { maxLifetimeDays: null });
      const p = await buildPerson(t, coId);
      const group = await api('POST', `/api/v1/cos/${coId}/groups`, { name: `Dated ${newId().slice(0, 4)}` });
      const members = `/api/v1/cos/${coId}/groups/${(group.body as { id: string }).id}/members`;
      const tokens = `${people()}/${p.id}/service-tokens`;
      for (const bad of ['2027-02-30T10:00:00Z', '1', '2027-06-30T10:00:00', '2030', '2027-06-30']) {
        for (const field of ['validFrom', 'validThrough']) {
          const res = await api('POST', members, { personId: p.id, [field]: bad });
          assert.deepEqual([res.status, (res.body as ApiError).error.field], [400, field], `${field} ${bad}`);
          assert.equal((res.body as ApiError).error.message, `${field}: ${RFC3339_MESSAGE}`);
        }
        const res = await api('POST', tokens, { serviceId: service.id, label: 'dated', expiresAt: bad });
        assert.deepEqual([res.status, (res.body as ApiError).error.field], [400, 'expiresAt'], `expiresAt ${bad}`);
      }
      const ok = await api('POST', tokens, { serviceId: service.id, label: 'dated', expiresAt: '2027-06-30T12:00:00+02:00' });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal((ok.body as { token: { expiresAt: string } }).token.expiresAt, '2027-06-30T10:00:00.000Z');
      const member = await api('POST', members, { personId: p.id, validFrom: '2026-01-01T01:00:00+01:00', validThrough: '2027-01-01T00:00:00Z' });
      assert.equal(member.status, 201);
      assert.equal((member.body as { validFrom: string }).validFrom, '2026-01-01T00:00:00.000Z');
    });

    it('takes the UTC fields of the web forms as UTC, with or without seconds', async () => {
      const browser = await adminBrowser();
      const body = form({ _csrf: browser.csrf, username: `dated-${newId().slice(0, 6)}`, validFrom: '2026-11-28T09:00', validThrough: '2027-02-30T09:00' });
      const refused = await t.app.inject({ method: 'POST', url: `/cos/${coId}/api-users`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
      assert.equal(refused.statusCode, 400);
      const username = `dated-${newId().slice(0, 6)}`;
      const good = form({ _csrf: browser.csrf, username, validFrom: '2026-11-28T09:00', validThrough: '2027-02-28T09:00:30' });
      const res = await t.app.inject({ method: 'POST', url: `/cos/${coId}/api-users`, headers: { ...browser.headers, ...good.headers }, payload: good.payload });
      assert.ok(res.statusCode < 400, res.body.slice(0, 300));
      const row = await t.ctx.db.selectFrom('api_user').select(['valid_from', 'valid_through']).where('co_id', '=', coId).where('username', '=', username).executeTakeFirstOrThrow();
      assert.deepEqual(row, { valid_from: '2026-11-28T09:00:00.000Z', valid_through: '2027-02-28T09:00:30.000Z' });
    });

    it('declares format: date-time in the OpenAPI document for every date the API takes', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>> };
      const found: string[] = [];
      const walk = (node: unknown, where: string): void => {
        if (!node || typeof node !== 'object') return;
        for (const [k, v] of Object.entries(node)) {
          if (/^(valid(From|Through)|expiresAt)$/.test(k)) {
            const text = JSON.stringify(v);
            assert.match(text, /"format":"date-time"/, `${where} ${k}`);
            found.push(`${where} ${k}`);
          }
          walk(v, where);
        }
      };
      for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) walk(op.requestBody, `${method} ${path}`);
      assert.ok(found.some((f) => f.includes('members') && f.endsWith('validFrom')) && found.some((f) => f.endsWith('expiresAt')), found.join(', '));
    });
  });
});
