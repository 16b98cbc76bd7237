import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addRecordingTarget, RECORDING_TYPE, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, fieldValue, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';
import { newId } from '../../db/ids.ts';
import type { Co } from '../cos/co.service.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { groupInput } from '../groups/group.schema.ts';
import { createGroup } from '../groups/group.service.ts';

forEachDialect('Provisioning pages', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);
  let coA: Co;
  let coB: Co;
  let admin: Browser;
  let member: Browser;
  let adminB: Browser;

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    admin = await signIn(t, (await buildPerson(t, coA.id, { admin: true })).username);
    member = await signIn(t, (await buildPerson(t, coA.id)).username);
    adminB = await signIn(t, (await buildPerson(t, coB.id, { admin: true })).username);
  });

  const targetsUrl = (co: Co) => `/cos/${co.id}/provisioning-targets`;
  const targetRows = (co: Co) => t.ctx.db.selectFrom('provisioning_target').selectAll().where('co_id', '=', co.id).orderBy('created_at').execute();
  const fullForm = (over: Record<string, string | undefined> = {}) => ({
    provisionerType: RECORDING_TYPE,
    description: 'Main directory',
    mode: 'automatic',
    ordinal: '5',
    retryIntervalSeconds: '30',
    maxRetries: '2',
    provisionGroupId: '',
    'config.url': 'ldaps://ldap.example.org',
    'config.bindDn': 'cn=tessera,dc=example,dc=org',
    'config.bindPassword': 'first-secret',
    'config.startTls': undefined,
    'config.flavour': 'plain',
    'config.failWith': '',
    ...over,
  });

  describe('targets', () => {
    it('offers the targets from the CO configuration menu, to the CO’s admins only', async () => {
      const dashboard = await get(t, `/cos/${coA.id}`, admin);
      assert.ok(dashboard.body.includes(`href="${targetsUrl(coA)}"`), 'the configuration menu links the targets');
      const empty = await get(t, targetsUrl(coA), admin);
      assert.equal(empty.statusCode, 200);
      assert.match(empty.body, /No provisioning targets yet — <a href="[^"]+\/provisioning-targets\/new">add the first one<\/a>/);
      assert.equal((await get(t, targetsUrl(coA), member)).statusCode, 403);
      assert.equal((await get(t, `${targetsUrl(coA)}/new`, member)).statusCode, 403);
      assert.equal((await post(t, targetsUrl(coA), member, fullForm())).statusCode, 403);
      assert.equal((await get(t, targetsUrl(coA), adminB)).statusCode, 404);
      assert.equal((await get(t, targetsUrl(coA))).statusCode, 401);
    });

    it('renders the provisioner’s settings from its schema and creates a target', async () => {
      const chooser = await get(t, `${targetsUrl(coA)}/new?choose=1`, admin);
      assert.match(chooser.body, /<select id="f-provisionerType" name="provisionerType"[^>]*><option value="recording" selected>Recording \(tests\)<\/option>/);
      const form = await get(t, `${targetsUrl(coA)}/new`, admin);
      assert.equal(form.statusCode, 200);
      assert.match(form.body, /<input id="f-config.url" name="config.url" type="text"/);
      assert.match(form.body, /<input id="f-config.bindPassword" name="config.bindPassword" type="password" value(="")? /);
      assert.match(form.body, /<input id="f-config.startTls" type="checkbox" name="config.startTls"/);
      assert.match(form.body, /<select id="f-config.flavour" name="config.flavour"[^>]*><option value="plain" selected>plain<\/option><option value="fancy">fancy<\/option>/);
      assert.ok(form.body.includes('Where the pretend directory lives.'), 'the schema’s description is the hint');
      assert.equal(fieldValue(form.body, 'f-mode'), 'automatic');
      assert.equal(fieldValue(form.body, 'f-ordinal'), '10');

      const group = await createGroup(t.ctx, SYSTEM_ACTOR, coA.id, groupInput.parse({ name: 'Stargazers' }));
      const res = await post(t, targetsUrl(coA), admin, fullForm({ description: `Dir ${XSS}`, mode: 'queue', provisionGroupId: group.id, 'config.startTls': 'on', 'config.flavour': 'fancy' }));
      const page = await followRedirect(t, res, admin);
      const [row] = await targetRows(coA);
      assert.ok(row);
      assert.equal(res.headers.location, `${targetsUrl(coA)}/${row.id}`);
      assert.match(page.body, /Provisioning target Dir .* created\./);
      assertEscaped(page.body, 'the target page');
      assert.deepEqual([row.provisioner_type, row.description, row.mode, row.ordinal, row.retry_interval_seconds, row.max_retries, row.provision_group_id], [RECORDING_TYPE, `Dir ${XSS}`, 'queue', 5, 30, 2, group.id]);
      const config = JSON.parse(row.config) as Record<string, unknown>;
      assert.deepEqual({ ...config, bindPassword: undefined }, { url: 'ldaps://ldap.example.org', bindDn: 'cn=tessera,dc=example,dc=org', bindPassword: undefined, startTls: true, flavour: 'fancy' });
      assert.equal(t.ctx.secretBox.open(String(config.bindPassword)), 'first-secret');
      for (const text of ['Recording (tests)', 'Stargazers', 'ldaps://ldap.example.org', 'set (hidden)', 'No failures.']) assert.ok(page.body.includes(text), text);
      assert.ok(!page.body.includes('first-secret'));

      const list = await get(t, targetsUrl(coA), admin);
      assertEscaped(list.body, 'the list');
      for (const text of ['Recording (tests)', 'Queue — on the worker’s next pass', '<td>5</td>', 'Members of Stargazers only']) assert.ok(list.body.includes(text), text);
    });

    it('shows every wrong field at once, settings included, keeps what was typed and never echoes a password', async () => {
      const before = (await targetRows(coA)).length;
      const res = await post(t, targetsUrl(coA), admin, fullForm({ description: '', ordinal: 'abc', 'config.url': 'gopher:x', 'config.bindDn': '', 'config.bindPassword': 'typed-secret', 'config.flavour': 'odd' }));
      assert.equal(res.statusCode, 400);
      assert.equal(fieldMessage(res.body, 'f-description'), 'Required');
      assert.ok(fieldMessage(res.body, 'f-ordinal'));
      assert.equal(fieldMessage(res.body, 'f-config.url'), 'An ldap://, ldaps://, http:// or https:// URL');
      assert.equal(fieldMessage(res.body, 'f-config.bindDn'), 'Required');
      assert.ok(fieldMessage(res.body, 'f-config.flavour'));
      assert.equal(fieldValue(res.body, 'f-config.url'), 'gopher:x');
      assert.equal(fieldValue(res.body, 'f-ordinal'), 'abc');
      assert.equal(fieldValue(res.body, 'f-config.bindPassword'), '');
      assert.ok(!res.body.includes('typed-secret'));

      const missing = await post(t, targetsUrl(coA), admin, fullForm({ 'config.bindPassword': '' }));
      assert.equal(missing.statusCode, 400);
      assert.equal(fieldMessage(missing.body, 'f-config.bindPassword'), 'Required', 'a new target needs its password');
      assert.equal((await targetRows(coA)).length, before);

      const unknownType = await post(t, targetsUrl(coA), admin, fullForm({ provisionerType: 'carrier-pigeon' }));
      assert.equal(unknownType.statusCode, 400);
      assert.equal(fieldMessage(unknownType.body, 'f-provisionerType'), 'Choose one of the enabled types');
    });

    it('edits a target: the password left empty stays, a new one replaces it', async () => {
      const target = await addRecordingTarget(t, coA.id, { description: 'Editable', config: { bindPassword: 'kept-secret', startTls: true } });
      const url = `${targetsUrl(coA)}/${target.id}`;
      const form = await get(t, `${url}/edit`, admin);
      assert.equal(fieldValue(form.body, 'f-description'), 'Editable');
      assert.equal(fieldValue(form.body, 'f-config.bindDn'), 'cn=admin,dc=example,dc=org');
      assert.equal(fieldValue(form.body, 'f-config.bindPassword'), '');
      assert.match(form.body, /name="config.startTls" checked/);
      assert.ok(!form.body.includes('kept-secret') && !form.body.includes('(set)'));

      // The server stays the same: a kept password is only ever sent where it was given for.
      const sameServer = { 'config.url': 'ldap://directory.example.org', 'config.bindDn': 'cn=admin,dc=example,dc=org' };
      const saved = await followRedirect(t, await post(t, `${url}/edit`, admin, fullForm({ ...sameServer, description: 'Edited', 'config.bindPassword': '', 'config.startTls': undefined })), admin);
      assert.match(saved.body, /Provisioning target Edited saved\./);
      let row = (await t.ctx.db.selectFrom('provisioning_target').select('config').where('id', '=', target.id).executeTakeFirstOrThrow()).config;
      assert.equal(t.ctx.secretBox.open(JSON.parse(row).bindPassword), 'kept-secret');
      assert.equal(JSON.parse(row).startTls, false, 'an unticked checkbox is false');

      const invalid = await post(t, `${url}/edit`, admin, fullForm({ description: 'Edited', 'config.bindPassword': '', 'config.url': 'nope' }));
      assert.equal(invalid.statusCode, 400);
      assert.ok(fieldMessage(invalid.body, 'f-config.url'));
      assert.equal(fieldMessage(invalid.body, 'f-config.bindPassword'), undefined, 'empty keeps the password on an edit');

      await followRedirect(t, await post(t, `${url}/edit`, admin, fullForm({ description: 'Edited', 'config.bindPassword': 'second-secret' })), admin);
      row = (await t.ctx.db.selectFrom('provisioning_target').select('config').where('id', '=', target.id).executeTakeFirstOrThrow()).config;
      assert.equal(t.ctx.secretBox.open(JSON.parse(row).bindPassword), 'second-secret');
      for (const page of [await get(t, url, admin), await get(t, `${url}/edit`, admin), await get(t, targetsUrl(coA), admin)]) {
        assert.ok(!page.body.includes('second-secret') && !page.body.includes('kept-secret'), 'no page shows a bind password');
      }
      assert.equal((await get(t, `${targetsUrl(coB)}/${target.id}/edit`, adminB)).statusCode, 404);
      assert.equal((await post(t, `${targetsUrl(coB)}/${target.id}/edit`, adminB, fullForm())).statusCode, 404);
    });

    it('deletes a target after a confirmation page; the POST needs the CSRF token', async () => {
      const target = await addRecordingTarget(t, coA.id, { description: 'Doomed' });
      const url = `${targetsUrl(coA)}/${target.id}`;
      const confirm = await get(t, `${url}/delete`, admin);
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, new RegExp(`<form method="post" action="${url}/delete"`));
      assert.equal((await post(t, `${url}/delete`, admin, { _csrf: 'forged' })).statusCode, 403);
      assert.equal((await post(t, `${targetsUrl(coB)}/${target.id}/delete`, adminB)).statusCode, 404);
      assert.ok((await targetRows(coA)).some((r) => r.id === target.id), 'still there');
      const list = await followRedirect(t, await post(t, `${url}/delete`, admin), admin);
      assert.match(list.body, /Provisioning target Doomed deleted\./);
      assert.ok(!(await targetRows(coA)).some((r) => r.id === target.id));
      assert.equal((await get(t, url, admin)).statusCode, 404);
    });
  });

  describe('failures, reprovisioning and a person’s provisioning', () => {
    it('lists a target’s failures with the error and retries one', async () => {
      const co = await buildCo(t);
      const coAdmin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
      await t.worker.drain();
      const target = await addRecordingTarget(t, co.id, { description: 'Flaky', maxRetries: 0 });
      recorder.fail(target.id, `bind failed ${XSS}`);
      const person = await buildPerson(t, co.id, { given: 'Vera', family: 'Rubin' });
      await t.worker.drain();

      const list = await get(t, targetsUrl(co), coAdmin);
      assert.ok(list.body.includes('1 failed'), 'the list counts the failures');
      const page = await get(t, `${targetsUrl(co)}/${target.id}`, coAdmin);
      assertEscaped(page.body, 'the failures');
      assert.ok(page.body.includes('Vera Rubin'));
      const job = await t.ctx.db.selectFrom('provisioning_job').select('id').where('target_id', '=', target.id).where('person_id', '=', person.id).executeTakeFirstOrThrow();
      const retryUrl = `${targetsUrl(co)}/${target.id}/failures/${job.id}/retry`;
      assert.match(page.body, new RegExp(`action="${retryUrl}"`));

      recorder.heal(target.id);
      assert.equal((await post(t, retryUrl, coAdmin, { _csrf: 'forged' })).statusCode, 403);
      assert.equal((await post(t, `${targetsUrl(coB)}/${target.id}/failures/${job.id}/retry`, adminB)).statusCode, 404);
      const after = await followRedirect(t, await post(t, retryUrl, coAdmin), coAdmin);
      assert.match(after.body, /The job is queued again with fresh retries\./);
      assert.equal((await t.ctx.db.selectFrom('provisioning_job').select('state').where('id', '=', job.id).executeTakeFirstOrThrow()).state, 'pending');
      await t.worker.drain();
      assert.ok((await get(t, `${targetsUrl(co)}/${target.id}`, coAdmin)).body.includes('No failures.'));
    });

    it('reprovisions the whole CO with a progress page that refreshes itself until done', async () => {
      const co = await buildCo(t);
      const coAdmin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
      for (let i = 0; i < 3; i++) await buildPerson(t, co.id);
      await addRecordingTarget(t, co.id, { description: 'one', mode: 'manual' });
      await addRecordingTarget(t, co.id, { description: 'two', mode: 'manual', ordinal: 20 });

      const res = await post(t, `/cos/${co.id}/reprovision`, coAdmin);
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers.location), new RegExp(`^/cos/${co.id}/reprovision/[0-9a-f-]{36}$`));
      const running = await followRedirect(t, res, coAdmin);
      assert.match(running.body, /Reprovisioning requested: 8 job\(s\)\./);
      assert.equal(running.headers.refresh, '2', 'the page reloads itself while jobs wait');
      assert.match(running.body, /<strong class="progress-count">0\/8<\/strong>/);

      await t.worker.drain();
      const done = await get(t, String(res.headers.location), coAdmin);
      assert.equal(done.headers.refresh, undefined, 'and stops once everything ran');
      assert.match(done.body, /<strong class="progress-count">8\/8<\/strong> finished/);
      assert.equal(recorder.calls.length, 8);

      assert.equal((await get(t, String(res.headers.location), adminB)).statusCode, 404);
      const batchId = String(res.headers.location).split('/').at(-1)!;
      assert.equal((await get(t, `/cos/${coB.id}/reprovision/${batchId}`, adminB)).statusCode, 404, 'another CO’s batch');
      assert.equal((await post(t, `/cos/${co.id}/reprovision`, member)).statusCode, 404);
      assert.equal((await post(t, `/cos/${co.id}/reprovision`, coAdmin, { _csrf: 'forged' })).statusCode, 403);

      const nothing = await buildCo(t);
      const nothingAdmin = await signIn(t, (await buildPerson(t, nothing.id, { admin: true })).username);
      const none = await followRedirect(t, await post(t, `/cos/${nothing.id}/reprovision`, nothingAdmin), nothingAdmin);
      assert.match(none.body, /Nothing to reprovision/);
    });

    it('shows a person’s state per target, linked from the person page, and reprovisions that person', async () => {
      const co = await buildCo(t);
      const coAdmin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
      const good = await addRecordingTarget(t, co.id, { description: 'Good directory', ordinal: 1 });
      const bad = await addRecordingTarget(t, co.id, { description: 'Bad directory', ordinal: 2, maxRetries: 0 });
      const manual = await addRecordingTarget(t, co.id, { description: 'Manual directory', ordinal: 3, mode: 'manual' });
      recorder.fail(bad.id, `unwilling to perform ${XSS}`);
      const person = await buildPerson(t, co.id, { given: 'Henrietta', family: 'Leavitt' });
      await t.worker.drain();

      const personPage = await get(t, `/cos/${co.id}/people/${person.id}`, coAdmin);
      const url = `/cos/${co.id}/people/${person.id}/provisioning`;
      assert.ok(personPage.body.includes(`href="${url}"`), 'the person page links the provisioning page');
      const page = await get(t, url, coAdmin);
      assert.equal(page.statusCode, 200);
      assertEscaped(page.body, 'the person’s provisioning page');
      const rowOf = (html: string, description: string) => new RegExp(`${description}</a></td><td><span class="badge [^"]+">(\\w+)</span>`).exec(html)?.[1];
      assert.equal(rowOf(page.body, 'Good directory'), 'provisioned');
      assert.equal(rowOf(page.body, 'Bad directory'), 'failed');
      assert.equal(rowOf(page.body, 'Manual directory'), 'never');
      assert.ok(page.body.includes(`uid=${person.id},ou=Good directory`));

      recorder.heal(bad.id);
      const requested = await followRedirect(t, await post(t, `${url}/reprovision`, coAdmin), coAdmin);
      assert.match(requested.body, /Reprovisioning of Henrietta Leavitt requested: 3 job\(s\)\./);
      assert.equal(rowOf(requested.body, 'Manual directory'), 'pending');
      await t.worker.drain();
      const after = await get(t, url, coAdmin);
      for (const d of ['Good directory', 'Bad directory', 'Manual directory']) assert.equal(rowOf(after.body, d), 'provisioned', d);
      assert.deepEqual(recorder.callsFor(manual.id, person.id).map((c) => c.intent), ['present']);
      assert.equal(recorder.callsFor(good.id, person.id).length, 2);

      const ownBrowser = await signIn(t, person.username);
      assert.ok(!(await get(t, `/cos/${co.id}/people/${person.id}`, ownBrowser)).body.includes(`href="${url}"`), 'only admins get the link');
      assert.equal((await get(t, url, ownBrowser)).statusCode, 403);
      assert.equal((await post(t, `${url}/reprovision`, ownBrowser)).statusCode, 403);
      assert.equal((await get(t, `/cos/${coB.id}/people/${person.id}/provisioning`, adminB)).statusCode, 404);
      assert.equal((await get(t, `/cos/${co.id}/people/${newId()}/provisioning`, coAdmin)).statusCode, 404);
    });
  });
});
