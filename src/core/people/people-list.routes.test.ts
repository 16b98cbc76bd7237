import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../db/ids.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn } from '../../../test/support/test-app.ts';
import { get } from '../../../test/support/web-pages.ts';
import { insertPeopleBatch, type NewPersonRows } from './person-batch.repository.ts';

forEachDialect('CO People page of a large CO', (dialect) => {
  const t = useTestApp(dialect);

  it('counts up to 1,000 and says "more than", with a next page while pages are full', async () => {
    const co = await buildCo(t, 'Large CO');
    const admin = await signIn(t, (await buildPerson(t, co.id, { admin: true, given: 'Zed', family: 'Admin' })).username);
    const base = Date.parse('2026-01-01T00:00:00Z');
    const rows: NewPersonRows[] = Array.from({ length: 1010 }, (_, i) => {
      const id = newId();
      const at = new Date(base + i * 1000).toISOString();
      return {
        person: { id, co_id: co.id, status: 'active', created_at: at, updated_at: at },
        names: [{ id: newId(), co_id: co.id, person_id: id, given: 'Bulk', middle: null, family: `Number${String(i).padStart(4, '0')}`, suffix: null, type: 'official', primary_name: 1 }],
        identifiers: [{ id: newId(), co_id: co.id, person_id: id, identifier: `bulk${i}`, type: 'uid', login: 1, status: 'active', created_at: at }],
        emails: [],
      };
    });
    await t.ctx.db.transaction().execute((trx) => insertPeopleBatch(trx, rows));

    const first = await get(t, `/cos/${co.id}/people`, admin);
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /Showing 1–25 of more than 1,000/);
    assert.ok(first.body.includes(`href="/cos/${co.id}/people?page=2"`), 'a next page');
    const searched = await get(t, `/cos/${co.id}/people?q=bulk&page=41`, admin);
    assert.match(searched.body, /Showing 1001–1010 of more than 1,000/);
    assert.match(searched.body, /Number0009/, 'the oldest are on the last page');
    assert.doesNotMatch(searched.body, /rel="next"/, 'no next page after a page that is not full');
    const few = await get(t, `/cos/${co.id}/people?q=bulk100`, admin);
    assert.match(few.body, /Showing 1–11 of 11/, 'bulk100 and bulk1000–bulk1009, counted exactly');
  });
});
