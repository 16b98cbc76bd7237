import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addRecordingTarget, recordingConfig, RECORDING_TYPE, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { actorFor, buildCo, buildPerson, everyRow, forEachDialect } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { AppError } from '../errors/app-error.ts';
import { groupInput } from '../groups/group.schema.ts';
import { createGroup } from '../groups/group.service.ts';
import { requestReprovision } from './provisioning.service.ts';
import { SecretBox } from './secret-box.ts';
import { targetInput } from './target.schema.ts';
import { createTarget, deleteTarget, getTarget, listTargets, updateTarget } from './target.service.ts';

forEachDialect('Provisioning targets', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);

  /** Every value of every row of every table, as text: where a leaked secret would show. */
  async function everyStoredValue(): Promise<string> {
    const tables = await everyRow(t.db);
    assert.ok(tables.some((x) => x.table === 'provisioning_target'));
    return tables.map(({ rows }) => JSON.stringify(rows)).join('\n');
  }
  const storedConfig = async (targetId: string) =>
    JSON.parse((await t.ctx.db.selectFrom('provisioning_target').select('config').where('id', '=', targetId).executeTakeFirstOrThrow()).config) as Record<string, unknown>;
  const input = (over: Record<string, unknown> = {}, config: Record<string, unknown> = {}) =>
    targetInput.parse({ provisionerType: RECORDING_TYPE, description: 'Directory', ...over, config: recordingConfig(config) });
  /** What a provisioner run receives now for the person. */
  async function configSeenByProvisioner(coId: string, personId: string): Promise<Record<string, unknown>> {
    recorder.calls.length = 0;
    await requestReprovision(t.ctx, SYSTEM_ACTOR, coId, { personId });
    await t.worker.drain();
    return recorder.calls.at(-1)!.config;
  }

  it('keeps a bind password encrypted in the database, hands it to the provisioner, and never shows it back', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const plaintext = `bind-${newId()}`;
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({ description: 'Main directory' }, { bindPassword: plaintext }));

    assert.equal(target.config.bindPassword, '(set)');
    assert.equal(target.config.bindDn, 'cn=admin,dc=example,dc=org', 'other settings are shown as they are');
    const sealed = (await storedConfig(target.id)).bindPassword;
    assert.ok(SecretBox.isSealed(sealed), 'stored sealed');
    assert.equal(t.ctx.secretBox.open(sealed), plaintext);
    assert.ok(!(await everyStoredValue()).includes(plaintext), 'the plaintext is in no column of any table');
    assert.equal((await getTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id)).config.bindPassword, '(set)');
    assert.equal((await listTargets(t.ctx, SYSTEM_ACTOR, co.id))[0]!.config.bindPassword, '(set)');
    assert.equal((await configSeenByProvisioner(co.id, person.id)).bindPassword, plaintext, 'the provisioner gets the plaintext');

    // Left empty, omitted, or sent back masked as read: the password stays.
    for (const kept of ['', undefined, '(set)']) {
      const fetched = await getTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id);
      const config = { ...fetched.config, bindPassword: kept, bindDn: `cn=admin${String(kept)},dc=example,dc=org` };
      await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, targetInput.parse({ ...fetched, config }));
      assert.equal((await configSeenByProvisioner(co.id, person.id)).bindPassword, plaintext, `kept when sent as ${JSON.stringify(kept)}`);
    }

    const replaced = `new-${newId()}`;
    await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, input({ description: 'Main directory' }, { bindPassword: replaced }));
    assert.equal((await configSeenByProvisioner(co.id, person.id)).bindPassword, replaced);
    const everything = await everyStoredValue();
    assert.ok(!everything.includes(replaced) && !everything.includes(plaintext), 'neither password is stored in the clear');
  });

  it('asks for a kept secret again when the settings that say where it is sent change', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const plaintext = `bind-${newId()}`;
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({ description: 'Main directory' }, { bindPassword: plaintext }));
    const fetched = await getTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id);

    // Otherwise whoever may edit the target could point it at their own server and receive the password.
    for (const moved of [{ url: 'ldap://collector.example.net' }, { url: 'ldaps://directory.example.org' }]) {
      for (const kept of ['', undefined, '(set)']) {
        const config = { ...fetched.config, ...moved, bindPassword: kept };
        const error = await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, targetInput.parse({ ...fetched, config })).catch((e: unknown) => e);
        assert.ok(error instanceof AppError, `${JSON.stringify(moved)} with the password sent as ${JSON.stringify(kept)} is refused`);
        assert.equal(error.code, 'VALIDATION_FAILED');
        assert.equal(error.field, 'config.bindPassword');
      }
    }
    const seen = await configSeenByProvisioner(co.id, person.id);
    assert.deepEqual([seen.url, seen.startTls, seen.bindPassword], ['ldap://directory.example.org', false, plaintext], 'nothing changed');

    // Given again, the password goes to the new server.
    await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, targetInput.parse({ ...fetched, config: { ...fetched.config, url: 'ldap://replica.example.org', bindPassword: 'given-again' } }));
    const moved = await configSeenByProvisioner(co.id, person.id);
    assert.deepEqual([moved.url, moved.bindPassword], ['ldap://replica.example.org', 'given-again']);
  });

  it('masks sealed settings of a target whose provisioner is no longer enabled', async () => {
    const co = await buildCo(t);
    const now = t.clock.now().toISOString();
    const id = newId();
    await t.ctx.db
      .insertInto('provisioning_target')
      .values({ id, co_id: co.id, provisioner_type: 'retired', description: 'Old directory', mode: 'automatic', ordinal: 1, retry_interval_seconds: 60, max_retries: 1, provision_group_id: null, config: JSON.stringify({ url: 'ldap://old', bindPassword: t.ctx.secretBox.seal('old-secret') }), created_at: now, updated_at: now })
      .execute();
    const shown = await getTarget(t.ctx, SYSTEM_ACTOR, co.id, id);
    assert.deepEqual(shown.config, { url: 'ldap://old', bindPassword: '(set)' });
  });

  it('names the wrong settings as config.<field>', async () => {
    const co = await buildCo(t);
    const error = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({}, { url: 'gopher:x', bindDn: '', flavour: 'odd' })).catch((e: unknown) => e);
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.deepEqual(error.issues.map((i) => i.field).sort(), ['config.bindDn', 'config.flavour', 'config.url']);
    assert.deepEqual(await listTargets(t.ctx, SYSTEM_ACTOR, co.id), []);
  });

  it('refuses an unknown provisioner type and a group of another CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const foreignGroup = await createGroup(t.ctx, SYSTEM_ACTOR, other.id, groupInput.parse({ name: 'Elsewhere' }));
    await assert.rejects(createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({ provisionerType: 'nonesuch' })), (e: AppError) => e.code === 'VALIDATION_FAILED' && e.field === 'provisionerType');
    await assert.rejects(createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({ provisionGroupId: foreignGroup.id })), (e: AppError) => e.code === 'GROUP_NOT_FOUND' && e.field === 'provisionGroupId');
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Here' }));
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, input({ provisionGroupId: group.id, mode: 'queue', ordinal: 7, retryIntervalSeconds: 30, maxRetries: 4 }));
    assert.deepEqual(
      [target.provisionGroupId, target.mode, target.ordinal, target.retryIntervalSeconds, target.maxRetries],
      [group.id, 'queue', 7, 30, 4],
    );
  });

  it('keeps targets inside their CO and to its admins', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const notFound = (e: AppError) => e.code === 'PROVISIONING_TARGET_NOT_FOUND';
    await assert.rejects(getTarget(t.ctx, SYSTEM_ACTOR, other.id, target.id), notFound);
    await assert.rejects(updateTarget(t.ctx, SYSTEM_ACTOR, other.id, target.id, input()), notFound);
    await assert.rejects(deleteTarget(t.ctx, SYSTEM_ACTOR, other.id, target.id), notFound);
    await assert.rejects(getTarget(t.ctx, SYSTEM_ACTOR, co.id, 'not-an-id'), notFound);

    const member = await actorFor(t, (await buildPerson(t, co.id)).username);
    const forbidden = (e: AppError) => e.code === 'FORBIDDEN';
    await assert.rejects(listTargets(t.ctx, member, co.id), forbidden);
    await assert.rejects(getTarget(t.ctx, member, co.id, target.id), forbidden);
    await assert.rejects(createTarget(t.ctx, member, co.id, input()), forbidden);
    await assert.rejects(deleteTarget(t.ctx, member, co.id, target.id), forbidden);
    assert.equal((await getTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id)).id, target.id);
  });

  it('deletes a target with its jobs and recorded states, and records it in history', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { description: 'Short-lived' });
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    await buildPerson(t, co.id);
    await deleteTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id);
    assert.deepEqual(await listTargets(t.ctx, SYSTEM_ACTOR, co.id), []);
    assert.equal((await t.ctx.db.selectFrom('provisioning_job').select('id').where('target_id', '=', target.id).execute()).length, 0);
    assert.equal((await t.ctx.db.selectFrom('provisioning_state').select('id').where('person_id', '=', person.id).execute()).length, 0);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'comment']).where('co_id', '=', co.id).where('action', 'like', 'PROVISIONING_TARGET_%').orderBy('created_at').execute();
    assert.deepEqual(history.map((h) => h.action).sort(), ['PROVISIONING_TARGET_CREATED', 'PROVISIONING_TARGET_DELETED']);
  });
});
