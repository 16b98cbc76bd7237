import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApiWorld, type ApiWorld } from '../../../test/support/api-client.ts';
import { addRecordingTarget, recordingConfig, RECORDING_TYPE, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';

forEachDialect('Provisioning API', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  const targets = (coId: string) => `/api/v1/cos/${coId}/provisioning-targets`;
  const body = (over: Record<string, unknown> = {}, config: Record<string, unknown> = {}) => ({
    provisionerType: RECORDING_TYPE,
    description: 'Directory',
    mode: 'automatic',
    ordinal: 10,
    retryIntervalSeconds: 60,
    maxRetries: 3,
    ...over,
    config: recordingConfig(config),
  });
  const storedPassword = async (targetId: string) => {
    const row = await t.ctx.db.selectFrom('provisioning_target').select('config').where('id', '=', targetId).executeTakeFirstOrThrow();
    return t.ctx.secretBox.open((JSON.parse(row.config) as { bindPassword: string }).bindPassword);
  };

  describe('targets', () => {
    it('creates, reads, lists, replaces and deletes a target, never returning its bind password', async () => {
      const secret = `bind-${newId()}`;
      const created = await w.adminA('POST', targets(w.coA.id), body({ description: 'LDAP', mode: 'queue', ordinal: 5 }, { bindPassword: secret, startTls: true, flavour: 'fancy' }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { id, ...rest } = created.body;
      assert.deepEqual(rest, {
        coId: w.coA.id,
        provisionerType: RECORDING_TYPE,
        description: 'LDAP',
        mode: 'queue',
        ordinal: 5,
        retryIntervalSeconds: 60,
        maxRetries: 3,
        provisionGroupId: null,
        config: { url: 'ldap://directory.example.org', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: '(set)', startTls: true, flavour: 'fancy' },
      });
      assert.equal(await storedPassword(id), secret);

      const one = await w.adminA('GET', `${targets(w.coA.id)}/${id}`);
      const list = await w.adminA('GET', targets(w.coA.id));
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, created.body);
      assert.deepEqual(list.body.items.map((x: { id: string }) => x.id), [id]);
      for (const res of [created, one, list]) assert.ok(!JSON.stringify(res.body).includes(secret), 'the secret is never returned');

      // A client that PUTs back what it read keeps the password.
      const put = await w.adminA('PUT', `${targets(w.coA.id)}/${id}`, { ...one.body, description: 'LDAP (main)', maxRetries: 1 });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual([put.body.description, put.body.maxRetries, put.body.config.bindPassword], ['LDAP (main)', 1, '(set)']);
      assert.equal(await storedPassword(id), secret);
      const replaced = await w.adminA('PUT', `${targets(w.coA.id)}/${id}`, body({ description: 'LDAP (main)' }, { bindPassword: 'another-one' }));
      assert.equal(replaced.status, 200);
      assert.equal(await storedPassword(id), 'another-one');

      const del = await w.adminA('DELETE', `${targets(w.coA.id)}/${id}`);
      assert.equal(del.status, 204);
      assert.equal((await w.adminA('GET', `${targets(w.coA.id)}/${id}`)).body.error.code, 'PROVISIONING_TARGET_NOT_FOUND');
    });

    it('refuses invalid settings with the field named, and an unknown type', async () => {
      const bad = await w.adminA('POST', targets(w.coA.id), body({}, { url: 'gopher:x' }));
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
      assert.equal(bad.body.error.field, 'config.url');
      const noPassword = await w.adminA('POST', targets(w.coA.id), body({}, { bindPassword: '' }));
      assert.equal(noPassword.body.error.field, 'config.bindPassword');
      const unknown = await w.adminA('POST', targets(w.coA.id), body({ provisionerType: 'carrier-pigeon' }));
      assert.deepEqual([unknown.status, unknown.body.error.field], [400, 'provisionerType']);
      const badMode = await w.adminA('POST', targets(w.coA.id), body({ mode: 'sometimes' }));
      assert.deepEqual([badMode.status, badMode.body.error.field], [400, 'mode']);
    });

    it('is for privileged API users of the CO (or the platform) only; other COs’ ids are not found', async () => {
      const target = await addRecordingTarget(t, w.coA.id);
      const url = `${targets(w.coA.id)}/${target.id}`;
      assert.equal((await w.anonymous('GET', targets(w.coA.id))).status, 401);
      assert.equal((await w.readerA('GET', targets(w.coA.id))).status, 403);
      assert.equal((await w.readerA('GET', url)).status, 403);
      assert.equal((await w.readerA('POST', targets(w.coA.id), body())).status, 403);
      assert.equal((await w.readerA('DELETE', url)).status, 403);
      assert.equal((await w.platformReader('GET', targets(w.coA.id))).status, 403);
      assert.equal((await w.platformAdmin('GET', url)).status, 200);
      // CO B's admin reaches neither CO A's list nor its target through CO B.
      assert.equal((await w.adminB('GET', targets(w.coA.id))).body.error.code, 'CO_NOT_FOUND');
      for (const [method, payload] of [['GET', undefined], ['PUT', body()], ['DELETE', undefined]] as const) {
        const res = await w.adminB(method, `${targets(w.coB.id)}/${target.id}`, payload);
        assert.deepEqual([method, res.status, res.body.error.code], [method, 404, 'PROVISIONING_TARGET_NOT_FOUND']);
      }
      assert.equal((await w.adminB('GET', `${targets(w.coB.id)}/${target.id}/failures`)).status, 404);
      assert.equal((await w.adminA('GET', `${targets(w.coA.id)}/not-an-id`)).status, 404);
      assert.equal((await w.adminA('GET', url)).status, 200, 'still there');
    });
  });

  describe('failures, retries, reprovisioning and states', () => {
    it('lists a target’s failures and retries one by hand', async () => {
      const target = await addRecordingTarget(t, w.coA.id, { description: 'flaky', maxRetries: 0 });
      recorder.fail(target.id, 'server down <b>');
      const person = await buildPerson(t, w.coA.id);
      await t.worker.drain();
      const failures = await w.adminA('GET', `${targets(w.coA.id)}/${target.id}/failures`);
      assert.equal(failures.status, 200);
      assert.equal(failures.body.items.length, 1);
      const [job] = failures.body.items;
      assert.deepEqual([job.personId, job.kind, job.state, job.attempts, job.lastError], [person.id, 'sync', 'failed', 1, 'server down <b>']);

      const retry = (call: typeof w.adminA, coId: string, jobId: string) => call('POST', `/api/v1/cos/${coId}/provisioning-jobs/${jobId}/retry`);
      assert.equal((await retry(w.readerA, w.coA.id, job.id)).status, 403);
      assert.equal((await retry(w.adminB, w.coB.id, job.id)).status, 404);
      assert.equal((await retry(w.adminA, w.coA.id, newId())).status, 404);
      recorder.heal(target.id);
      const retried = await retry(w.adminA, w.coA.id, job.id);
      assert.equal(retried.status, 202);
      assert.deepEqual(retried.body, { jobId: job.id, state: 'pending' });
      assert.equal((await retry(w.adminA, w.coA.id, job.id)).status, 404, 'only a failed job can be retried');
      await t.worker.drain();
      assert.deepEqual((await w.adminA('GET', `${targets(w.coA.id)}/${target.id}/failures`)).body.items, []);
    });

    it('reprovisions the CO or one person with progress, and shows a person’s states', async () => {
      const target = await addRecordingTarget(t, w.coA.id, { description: 'manual one', mode: 'manual' });
      const people = await t.ctx.db.selectFrom('co_person').select('id').where('co_id', '=', w.coA.id).execute();
      const start = await w.adminA('POST', `/api/v1/cos/${w.coA.id}/reprovision`, { targetId: target.id });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      assert.deepEqual({ ...start.body, batchId: undefined }, { batchId: undefined, total: people.length, done: 0, failed: 0, pending: people.length, retrying: 0 });
      const progressUrl = `/api/v1/cos/${w.coA.id}/reprovision/${start.body.batchId}`;
      assert.equal((await w.adminA('GET', progressUrl)).body.pending, people.length);
      await t.worker.drain();
      const done = await w.adminA('GET', progressUrl);
      assert.deepEqual([done.status, done.body.done, done.body.total, done.body.pending], [200, people.length, people.length, 0]);
      assert.equal((await w.adminB('GET', `/api/v1/cos/${w.coB.id}/reprovision/${start.body.batchId}`)).status, 404, 'another CO’s batch');
      assert.equal((await w.readerA('GET', progressUrl)).status, 403);
      assert.equal((await w.readerA('POST', `/api/v1/cos/${w.coA.id}/reprovision`, {})).status, 403);

      const person = await buildPerson(t, w.coA.id);
      const stranger = await buildPerson(t, w.coB.id);
      const one = await w.adminA('POST', `/api/v1/cos/${w.coA.id}/reprovision`, { personId: person.id });
      assert.equal(one.status, 202);
      const states = await w.adminA('GET', `/api/v1/cos/${w.coA.id}/people/${person.id}/provisioning`);
      assert.equal(states.status, 200);
      const mine = states.body.items.find((s: { targetId: string }) => s.targetId === target.id);
      assert.deepEqual([mine.status, mine.pendingJobs], ['pending', 1]);
      await t.worker.drain();
      const after = (await w.adminA('GET', `/api/v1/cos/${w.coA.id}/people/${person.id}/provisioning`)).body.items.find((s: { targetId: string }) => s.targetId === target.id);
      assert.deepEqual([after.status, after.targetKey, after.lastError, after.pendingJobs], ['provisioned', `uid=${person.id},ou=manual one`, null, 0]);

      assert.equal((await w.adminA('POST', `/api/v1/cos/${w.coA.id}/reprovision`, { personId: stranger.id })).status, 404);
      assert.equal((await w.adminA('GET', `/api/v1/cos/${w.coA.id}/people/${stranger.id}/provisioning`)).status, 404);
      assert.equal((await w.adminB('GET', `/api/v1/cos/${w.coA.id}/people/${person.id}/provisioning`)).status, 404);
      assert.equal((await w.readerA('GET', `/api/v1/cos/${w.coA.id}/people/${person.id}/provisioning`)).status, 403);
    });

    it('documents every provisioning route in the OpenAPI document', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
      const expected: Array<[string, string[]]> = [
        ['/api/v1/cos/{coId}/provisioning-targets', ['get', 'post']],
        ['/api/v1/cos/{coId}/provisioning-targets/{targetId}', ['get', 'put', 'delete']],
        ['/api/v1/cos/{coId}/provisioning-targets/{targetId}/failures', ['get']],
        ['/api/v1/cos/{coId}/provisioning-jobs/{jobId}/retry', ['post']],
        ['/api/v1/cos/{coId}/reprovision', ['post']],
        ['/api/v1/cos/{coId}/reprovision/{batchId}', ['get']],
        ['/api/v1/cos/{coId}/people/{personId}/provisioning', ['get']],
      ];
      for (const [path, methods] of expected) assert.deepEqual(Object.keys(doc.paths[path] ?? {}).sort(), [...methods].sort(), path);
    });
  });
});
