// The SCIM protocol layer on its own (no database): filters, PATCH semantics and User input, each
// as SRAM, Entra ID and Okta send them (see scim.e2e tests for the same against the real server).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScimError } from './scim-error.ts';
import { parseGroupFilter, parseUserFilter } from './scim-filter.ts';
import { applyGroupPatch } from './scim-group.input.ts';
import { applyUserPatch, parsePatchBody, PATCH_SCHEMA } from './scim-patch.ts';
import { listResponse, pagingOf, project } from './scim-resource.ts';
import { parseScimUser, SRAM_USER_SCHEMA } from './scim-user.input.ts';

const scimType = (type: string | undefined, status = 400) => (e: unknown) => e instanceof ScimError && e.scimType === type && e.status === status;
const patch = (...ops: unknown[]) => parsePatchBody({ schemas: [PATCH_SCHEMA], Operations: ops });

describe('SCIM filters', () => {
  it('accepts the supported equalities, joined by and, in any case of attribute and operator', () => {
    assert.deepEqual(parseUserFilter('userName eq "Bjensen"'), { userName: 'Bjensen' });
    assert.deepEqual(parseUserFilter('externalId eq "a1@sram.surf.nl"'), { externalId: 'a1@sram.surf.nl' });
    assert.deepEqual(parseUserFilter('USERNAME EQ "x" and id eq "p1"'), { userName: 'x', id: 'p1' });
    assert.deepEqual(parseUserFilter('emails[type eq "work"].value eq "a@example.org"'), { email: { type: 'work', value: 'a@example.org' } });
    assert.deepEqual(parseUserFilter('emails[type eq "work" and value eq "a@example.org"]'), { email: { type: 'work', value: 'a@example.org' } });
    assert.deepEqual(parseUserFilter(`${SRAM_USER_SCHEMA}:eduPersonUniqueId eq "u@sram"`), { eduPersonUniqueId: 'u@sram' });
    assert.deepEqual(parseUserFilter('eduPersonUniqueId eq "u@sram"'), { eduPersonUniqueId: 'u@sram' });
    assert.deepEqual(parseGroupFilter('displayName eq "Staff"'), { displayName: 'Staff' });
    assert.deepEqual(parseGroupFilter('externalId eq "g@sram.surf.nl"'), { externalId: 'g@sram.surf.nl' });
  });

  it('marks a filter that can match nothing, and is case-insensitive for userName only', () => {
    assert.equal(parseUserFilter('userName eq "a" and userName eq "A"').none, undefined);
    assert.equal(parseUserFilter('externalId eq "a" and externalId eq "A"').none, true);
  });

  it('answers invalidFilter for everything else', () => {
    for (const f of ['userName sw "a"', 'userName eq "a" or userName eq "b"', 'not (userName eq "a")', 'title eq "x"', 'userName pr', 'name.givenName eq "x"', 'emails[type eq "work"]', 'userName eq', 'active eq true', '(((']) {
      assert.throws(() => parseUserFilter(f), scimType('invalidFilter'), f);
    }
    for (const f of ['members[value eq "x"]', 'displayName co "a"', 'id eq "a" or id eq "b"']) assert.throws(() => parseGroupFilter(f), scimType('invalidFilter'), f);
  });
});

describe('SCIM User input', () => {
  it('takes "" as absent (SRAM), "False" as false (Entra ID), attribute names in any case', () => {
    const u = parseScimUser({ UserName: 'jdoe', externalId: '', active: 'False', name: { givenName: 'J', familyName: '' }, emails: [{ value: '', type: 'work' }], displayName: '' });
    assert.deepEqual(u, { userName: 'jdoe', externalId: undefined, active: false, givenName: 'J', familyName: undefined, middleName: undefined, displayName: undefined, emails: [], eduPersonUniqueId: undefined });
    assert.equal(parseScimUser({ userName: 'a', active: 'TRUE' }).active, true);
    assert.equal(parseScimUser({ userName: 'a', [SRAM_USER_SCHEMA]: { eduPersonUniqueId: 'x@sram' } }).eduPersonUniqueId, 'x@sram');
  });

  it('refuses unknown attributes (invalidSyntax) and wrong types (invalidValue)', () => {
    assert.throws(() => parseScimUser({ userName: 'a', shoeSize: 42 }), scimType('invalidSyntax'));
    assert.throws(() => parseScimUser({ userName: 'a', name: { nickname: 'x' } }), scimType('invalidSyntax'));
    assert.throws(() => parseScimUser({ userName: 42 }), scimType('invalidValue'));
    assert.throws(() => parseScimUser({ userName: 'a', active: 'yes' }), scimType('invalidValue'));
    assert.throws(() => parseScimUser({ userName: 'a', emails: 'a@b' }), scimType('invalidValue'));
    assert.throws(() => parseScimUser({ userName: 'a', emails: [{ value: 'not an address' }] }), scimType('invalidValue'));
    assert.throws(() => parseScimUser({ active: true }), scimType('invalidValue'));
    assert.throws(() => parseScimUser([]), scimType('invalidSyntax'));
  });
});

describe('SCIM PATCH', () => {
  const user = { userName: 'jdoe', active: true, name: { givenName: 'J', familyName: 'Doe' }, emails: [{ value: 'j@example.org', type: 'work', primary: true }] };

  it("takes Entra ID's capitalised ops and string booleans", () => {
    const out = applyUserPatch(user, patch({ op: 'Replace', path: 'active', value: 'False' }, { op: 'Add', path: 'name.familyName', value: 'Dough' }));
    assert.equal(parseScimUser(out).active, false);
    assert.equal(parseScimUser(out).familyName, 'Dough');
  });

  it('applies path-less values key by key (Okta deactivation) and emails[type eq "work"].value', () => {
    assert.equal(parseScimUser(applyUserPatch(user, patch({ op: 'replace', value: { id: 'p1', active: false } }))).active, false);
    const out = parseScimUser(applyUserPatch(user, patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'new@example.org' })));
    assert.deepEqual(out.emails, [{ value: 'new@example.org', type: 'work', primary: true }]);
    const added = parseScimUser(applyUserPatch({ userName: 'x' }, patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'w@example.org' })));
    assert.deepEqual(added.emails, [{ value: 'w@example.org', type: 'work', primary: false }]);
  });

  it('refuses paths Tessera does not write, unknown ops and a missing PatchOp schema', () => {
    assert.throws(() => applyUserPatch(user, patch({ op: 'replace', path: 'title2', value: 'x' })), scimType('invalidPath'));
    assert.throws(() => patch({ op: 'move', path: 'active', value: false }), scimType('invalidValue'));
    assert.throws(() => parsePatchBody({ Operations: [{ op: 'add', path: 'active', value: true }] }), scimType('invalidSyntax'));
    assert.throws(() => patch({ op: 'remove' }), scimType('noTarget'));
  });

  it('group members: Remove with a value list removes only those (Entra ID); members[value eq] (Okta); replace', () => {
    const plan = { displayName: 'G', description: '', externalId: undefined, members: new Set(['a', 'b', 'c']) };
    assert.deepEqual([...applyGroupPatch(plan, patch({ op: 'Remove', path: 'members', value: [{ value: 'b' }] })).members], ['a', 'c']);
    assert.deepEqual([...applyGroupPatch(plan, patch({ op: 'remove', path: 'members[value eq "a"]' })).members], ['b', 'c']);
    assert.deepEqual([...applyGroupPatch(plan, patch({ op: 'add', path: 'members', value: [{ value: 'd' }] })).members], ['a', 'b', 'c', 'd']);
    assert.deepEqual([...applyGroupPatch(plan, patch({ op: 'replace', path: 'members', value: [{ value: 'd' }] })).members], ['d']);
    assert.deepEqual([...applyGroupPatch(plan, patch({ op: 'remove', path: 'members' })).members], []);
    assert.equal(applyGroupPatch(plan, patch({ op: 'replace', value: { id: 'g1', displayName: 'New' } })).displayName, 'New');
    assert.throws(() => applyGroupPatch(plan, patch({ op: 'replace', path: 'externalId', value: 'other' })), scimType('mutability'));
  });
});

describe('SCIM lists', () => {
  it('pages from 1, caps count, and never promises more than it returns', () => {
    assert.deepEqual(pagingOf({ startIndex: '0', count: '5000' }), { startIndex: 1, count: 1000 });
    assert.deepEqual(pagingOf({}), { startIndex: 1, count: 100 });
    assert.throws(() => pagingOf({ count: 'ten' }), scimType('invalidValue'));
    const empty = listResponse(3, { startIndex: 4, count: 2 }, []);
    assert.equal(empty.itemsPerPage, 0);
    assert.equal(empty.totalResults, 3);
  });

  it('projects attributes and excludedAttributes, always keeping id, schemas and meta', () => {
    const r = { schemas: ['s'], id: '1', meta: {}, displayName: 'G', members: [{ value: 'a' }], name: { givenName: 'A', familyName: 'B' } };
    assert.deepEqual(project(r, { excluded: ['members'] }), { schemas: ['s'], id: '1', meta: {}, displayName: 'G', name: { givenName: 'A', familyName: 'B' } });
    assert.deepEqual(project(r, { attributes: ['name.givenname'] }), { schemas: ['s'], id: '1', meta: {}, name: { givenName: 'A' } });
  });
});
