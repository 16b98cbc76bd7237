import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Co } from '../cos/co.service.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { get, post } from '../../../test/support/web-pages.ts';

forEachDialect('History page', (dialect) => {
  const t = useTestApp(dialect);
  let co: Co;
  let admin: Browser;
  let member: Browser;
  let other: Browser;

  before(async () => {
    co = await buildCo(t, 'Astronomy');
    admin = await signIn(t, (await buildPerson(t, co.id, { admin: true, given: 'Ada' })).username);
    member = await signIn(t, (await buildPerson(t, co.id)).username);
    const otherCo = await buildCo(t, 'Biology');
    other = await signIn(t, (await buildPerson(t, otherCo.id, { admin: true })).username);
  });

  it('lists the CO’s changes newest first, with who made them, and pages back', async () => {
    for (let i = 0; i < 55; i++) {
      t.clock.advance(1000);
      await post(t, `/cos/${co.id}/groups`, admin, { name: `Group ${String(i).padStart(2, '0')}`, status: 'active' });
    }
    const first = await get(t, `/cos/${co.id}/history`, admin);
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /Group Group 54 created/);
    assert.doesNotMatch(first.body, /Group Group 04 created/);
    assert.equal((first.body.match(/<tr><td><time/g) ?? []).length, 50);
    assert.ok(first.body.includes(`href="/cos/${co.id}/history?page=2"`));
    const names = /<td class="hide-narrow">(user-[^<]+)<\/td>/.exec(first.body);
    assert.ok(names, 'the actor is shown');

    const second = await get(t, `/cos/${co.id}/history?page=2`, admin);
    assert.match(second.body, /Group Group 04 created/);
    assert.match(second.body, /CO_CREATED/);
    assert.doesNotMatch(second.body, /Group Group 54 created/);
    assert.equal((await get(t, `/cos/${co.id}/history?page=zzz`, admin)).statusCode, 200);
  });

  it('is for CO admins only', async () => {
    assert.equal((await get(t, `/cos/${co.id}/history`, member)).statusCode, 403);
    assert.equal((await get(t, `/cos/${co.id}/history`, other)).statusCode, 404);
    assert.equal((await get(t, `/cos/${co.id}/history`)).statusCode, 401);
  });
});
