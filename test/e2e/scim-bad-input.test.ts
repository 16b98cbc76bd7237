// Bad input to a SCIM endpoint: every case answers a SCIM error body (RFC 7644 §3.12) with the
// right status and scimType, and leaves every table's rows as they were. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { filter, patchOp, scimSource, type ScimResponse } from '../support/scim.ts';
import { buildCo, everyRow, forEachDialect, useTestApp, type TestApp } from '../support/test-app.ts';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

async function snapshot(t: TestApp): Promise<string> {
  return (await everyRow(t.db)).map(({ table, rows }) => `${table}: ${rows.map((r) => JSON.stringify(r)).sort().join('\n  ')}`).join('\n');
}

function assertScimError(res: ScimResponse, status: number, scimType: string | undefined, what: string): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(res.body.schemas, [ERROR_SCHEMA], what);
  assert.equal(res.body.status, String(status), what);
  assert.equal(res.body.scimType, scimType, what);
  assert.equal(typeof res.body.detail, 'string', what);
}

forEachDialect('SCIM: bad input', (dialect) => {
  const t = useTestApp(dialect, { config: { publicUrl: 'http://tessera.test' } });

  it('answers a SCIM error and changes nothing', async () => {
    const co = await buildCo(t);
    const scim = await scimSource(t, co.id, { name: 'Client' });
    const other = await scimSource(t, co.id, { name: 'Other client' });
    const mine = await scim.send('POST', '/Users', { userName: 'Mine', name: { givenName: 'Min', familyName: 'E' } });
    const theirs = await other.send('POST', '/Users', { userName: 'theirs', name: { givenName: 'The', familyName: 'Irs' } });
    const theirGroup = await other.send('POST', '/Groups', { displayName: 'Their group', members: [{ value: theirs.body.id }] });
    const group = await scim.send('POST', '/Groups', { displayName: 'My group', members: [{ value: mine.body.id }] });
    assert.deepEqual([mine.status, theirs.status, theirGroup.status, group.status], [201, 201, 201, 201]);
    const before = await snapshot(t);

    const cases: Array<[string, () => Promise<ScimResponse>, number, string | undefined]> = [
      ['an unknown attribute', () => scim.send('POST', '/Users', { userName: 'new', shoeSize: 44 }), 400, 'invalidSyntax'],
      ['an unknown attribute in name', () => scim.send('PUT', `/Users/${String(mine.body.id)}`, { userName: 'Mine', name: { nickName: 'x' } }), 400, 'invalidSyntax'],
      ['an unknown group attribute', () => scim.send('POST', '/Groups', { displayName: 'G2', owner: 'me' }), 400, 'invalidSyntax'],
      ['userName of the wrong type', () => scim.send('POST', '/Users', { userName: 42 }), 400, 'invalidValue'],
      ['active of the wrong type', () => scim.send('POST', '/Users', { userName: 'new', active: 'perhaps' }), 400, 'invalidValue'],
      ['emails not a list', () => scim.send('POST', '/Users', { userName: 'new', emails: 'new@example.org' }), 400, 'invalidValue'],
      ['no userName', () => scim.send('POST', '/Users', { name: { givenName: 'No' } }), 400, 'invalidValue'],
      ['a duplicate userName, in another case', () => scim.send('POST', '/Users', { userName: 'MINE' }), 409, 'uniqueness'],
      ["another source's userName", () => scim.send('POST', '/Users', { userName: 'Theirs' }), 409, 'uniqueness'],
      ['a duplicate group name', () => scim.send('POST', '/Groups', { displayName: 'Their group' }), 409, 'uniqueness'],
      ['a filter outside the set', () => scim.send('GET', `/Users?${filter('name.familyName eq "E"')}`), 400, 'invalidFilter'],
      ['an or filter', () => scim.send('GET', `/Users?${filter('userName eq "a" or userName eq "b"')}`), 400, 'invalidFilter'],
      ['a filter that does not parse', () => scim.send('GET', `/Groups?${filter('displayName eq')}`), 400, 'invalidFilter'],
      ['a PATCH path Tessera does not write', () => scim.send('PATCH', `/Users/${String(mine.body.id)}`, patchOp({ op: 'replace', path: 'nickName2', value: 'x' })), 400, 'invalidPath'],
      ['a PATCH of the wrong type', () => scim.send('PATCH', `/Users/${String(mine.body.id)}`, patchOp({ op: 'replace', path: 'active', value: 7 })), 400, 'invalidValue'],
      ['a PATCH without its schema', () => scim.send('PATCH', `/Users/${String(mine.body.id)}`, { Operations: [{ op: 'replace', path: 'active', value: false }] }), 400, 'invalidSyntax'],
      ['a body that is not JSON', () => scim.send('POST', '/Users', '{"userName": '), 400, 'invalidSyntax'],
      ['an oversized body', () => scim.send('POST', '/Groups', { displayName: 'Huge', members: Array.from({ length: 60_000 }, (_, i) => ({ value: `member-${i}` })) }), 413, undefined],
      ["another source's user (GET)", () => scim.send('GET', `/Users/${String(theirs.body.id)}`), 404, undefined],
      ["another source's user (PUT)", () => scim.send('PUT', `/Users/${String(theirs.body.id)}`, { userName: 'theirs', active: false }), 404, undefined],
      ["another source's user (PATCH)", () => scim.send('PATCH', `/Users/${String(theirs.body.id)}`, patchOp({ op: 'replace', path: 'active', value: false })), 404, undefined],
      ["another source's user (DELETE)", () => scim.send('DELETE', `/Users/${String(theirs.body.id)}`), 404, undefined],
      ["another source's group (DELETE)", () => scim.send('DELETE', `/Groups/${String(theirGroup.body.id)}`), 404, undefined],
      ["another source's user as a member", () => scim.send('PATCH', `/Groups/${String(group.body.id)}`, patchOp({ op: 'add', path: 'members', value: [{ value: theirs.body.id }] })), 400, 'invalidValue'],
      ["another source's user as a member (PUT)", () => scim.send('PUT', `/Groups/${String(group.body.id)}`, { displayName: 'My group', members: [{ value: theirs.body.id }] }), 400, 'invalidValue'],
      ['no token', () => scim.send('GET', '/Users', undefined, { authorization: '' }), 401, undefined],
      ['a wrong token', () => scim.send('POST', '/Users', { userName: 'new' }, { authorization: 'Bearer tss_not-a-token' }), 401, undefined],
      ["another source's token", () => scim.send('POST', '/Users', { userName: 'new' }, { authorization: `Bearer ${other.token}` }), 401, undefined],
      ['an unknown endpoint', () => scim.send('GET', '/Bulk'), 404, undefined],
    ];
    for (const [what, request, status, scimType] of cases) {
      assertScimError(await request(), status, scimType, what);
      assert.equal(await snapshot(t), before, `${what}: nothing changed`);
    }
    const wrong = await scim.send('GET', '/Users', undefined, { authorization: 'Bearer tss_wrong' });
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="Tessera SCIM"');
  });

  it("limits each source's requests a minute with 429 and Retry-After, other sources unaffected", async () => {
    const co = await buildCo(t);
    const slow = await scimSource(t, co.id, { name: 'Slow', requestsPerMinute: 3 });
    const fast = await scimSource(t, co.id, { name: 'Fast' });
    for (let i = 0; i < 3; i++) assert.equal((await slow.send('GET', '/Users')).status, 200);
    const limited = await slow.send('GET', '/Users');
    assertScimError(limited, 429, undefined, 'over the limit');
    assert.match(String(limited.headers['retry-after']), /^\d+$/);
    assert.equal((await fast.send('GET', '/Users')).status, 200);
  });
});

