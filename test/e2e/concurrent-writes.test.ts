import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addMembership, createGroup } from '../../src/core/groups/group.service.ts';
import { groupInput, membershipInput } from '../../src/core/groups/group.schema.ts';
import { keepsEntry } from '../../src/core/people/person.service.ts';
import { ProvisioningWorker } from '../../src/core/provisioning/worker.ts';
import type { Target } from '../../src/core/provisioning/provisioner.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { addRecordingTarget, recordingConfig, RECORDING_TYPE, useRecordingTestApp } from '../support/recording-provisioner.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, type BuiltPerson } from '../support/test-app.ts';

/** Rounds per race: each starts from fresh objects and fires its requests in a new random order. */
const ROUNDS = 16;

interface Sent {
  what: string;
  status: number;
  body: string;
}

/** Fisher–Yates, so every round interleaves the requests differently. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

forEachDialect('Concurrent writes on the same objects', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect, { plugins: [serviceTokensPlugin()] });
  let authorization: string;
  let coId: string;
  let serviceId: string;
  let targets: Target[];
  const sent: Sent[] = [];
  const workerErrors: unknown[] = [];

  before(async () => {
    coId = (await buildCo(t)).id;
    authorization = (await buildApiUser(t, coId, true)).authorization;
    targets = [await addRecordingTarget(t, coId, { description: 'people', ordinal: 1 }), await addRecordingTarget(t, coId, { description: 'tokens', ordinal: 2 })];
    const service = await buildService(t, coId, { name: 'Mail', shortLabel: 'mail' });
    serviceId = service.id;
    await enableTokens(t, coId, serviceId, { maxTokensPerPerson: 50 });
  });

  const api = async (what: string, method: string, url: string, payload?: unknown): Promise<Sent> => {
    // A random start within a few milliseconds: requests overlap, each round differently.
    await sleep(Math.random() * 4);
    const res = await t.app.inject({ method: method as 'GET', url: `/api/v1/cos/${coId}${url}`, headers: { authorization }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    const answer = { what, status: res.statusCode, body: res.body.slice(0, 300) };
    sent.push(answer);
    return answer;
  };

  /** Worker passes running beside the requests: two workers, as two processes would. */
  const workerPasses = async (count: number): Promise<void> => {
    const workers = [t.worker, new ProvisioningWorker(t.ctx, t.registry.contributors, { concurrency: 4 })];
    await Promise.all(
      workers.map(async (w) => {
        for (let i = 0; i < count; i++) {
          await sleep(Math.random() * 6);
          await w.runOnce().catch((e: unknown) => workerErrors.push(e));
        }
      }),
    );
  };

  const people = async (n: number): Promise<BuiltPerson[]> => {
    const out: BuiltPerson[] = [];
    for (let i = 0; i < n; i++) out.push(await buildPerson(t, coId));
    return out;
  };

  const assertStatuses = (what: string, allowed: number[]) => {
    for (const s of sent.filter((x) => x.what === what)) assert.ok(allowed.includes(s.status), `${what} answered ${s.status}: ${s.body}`);
  };

  it('updates vs deletes of one group, with memberships and the worker', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const members = await people(4);
      const group = await createGroup(t.ctx, SYSTEM_ACTOR, coId, groupInput.parse({ name: `Race ${round} ${Date.now()}` }));
      for (const p of members.slice(0, 3)) await addMembership(t.ctx, SYSTEM_ACTOR, coId, group.id, membershipInput.parse({ personId: p.id }));
      recorder.delayMs = 1;
      await Promise.all(
        shuffled([
          () => api('group PUT', 'PUT', `/groups/${group.id}`, { name: `Race ${round} a ${Date.now()}` }),
          () => api('group PUT', 'PUT', `/groups/${group.id}`, { name: `Race ${round} b ${Date.now()}`, description: 'b' }),
          () => api('group DELETE', 'DELETE', `/groups/${group.id}`),
          () => api('member POST', 'POST', `/groups/${group.id}/members`, { personId: members[3]!.id }),
          () => api('person DELETE', 'DELETE', `/people/${members[0]!.id}`),
          () => api('person status PUT', 'PUT', `/people/${members[1]!.id}/status`, { status: 'suspended' }),
          () => workerPasses(3),
        ]).map((f) => f()),
      );
    }
    assertStatuses('group PUT', [200, 404]);
    assertStatuses('group DELETE', [204, 404]);
    assertStatuses('member POST', [201, 404]);
    assertStatuses('person DELETE', [204]);
    assertStatuses('person status PUT', [200]);
  });

  it('changes vs the deletion of one person, with token generation and revocation and the worker', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [person] = await people(1);
      const { token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, person!.id, { serviceId, label: 'existing' });
      recorder.delayMs = 1;
      await Promise.all(
        shuffled([
          () => api('person status PUT', 'PUT', `/people/${person!.id}/status`, { status: 'suspended' }),
          () => api('person status PUT', 'PUT', `/people/${person!.id}/status`, { status: 'active' }),
          () => api('name POST', 'POST', `/people/${person!.id}/names`, { given: 'Alias', type: 'alternate' }),
          () => api('email POST', 'POST', `/people/${person!.id}/emails`, { mail: `r${round}@example.org`, type: 'official' }),
          () => api('person DELETE', 'DELETE', `/people/${person!.id}`),
          () => api('person DELETE twice', 'DELETE', `/people/${person!.id}`),
          () => api('token POST', 'POST', `/people/${person!.id}/service-tokens`, { serviceId, label: `new ${round}` }),
          () => api('token POST', 'POST', `/people/${person!.id}/service-tokens`, { serviceId, label: `other ${round}` }),
          () => api('token DELETE', 'DELETE', `/people/${person!.id}/service-tokens/${token.id}`),
          () => api('token DELETE', 'DELETE', `/people/${person!.id}/service-tokens/${token.id}`),
          () => workerPasses(3),
        ]).map((f) => f()),
      );
    }
    assertStatuses('person status PUT', [200, 404]);
    assertStatuses('name POST', [201, 404]);
    assertStatuses('email POST', [201, 404]);
    assertStatuses('person DELETE', [204, 404]);
    assertStatuses('person DELETE twice', [204, 404]);
    assertStatuses('token POST', [201, 404, 422]);
    assertStatuses('token DELETE', [204, 404, 409]);
  });

  it('updates vs the deletion of one provisioning target, with reprovisions and the worker', async () => {
    await people(10);
    for (let round = 0; round < ROUNDS; round++) {
      const target = await addRecordingTarget(t, coId, { description: `extra ${round}`, ordinal: 30 });
      const body = (description: string) => ({ provisionerType: RECORDING_TYPE, description, mode: 'automatic', ordinal: 30, retryIntervalSeconds: 60, maxRetries: 3, config: recordingConfig() });
      recorder.delayMs = 1;
      await Promise.all(
        shuffled([
          () => api('target PUT', 'PUT', `/provisioning-targets/${target.id}`, body(`extra ${round} a`)),
          () => api('target PUT', 'PUT', `/provisioning-targets/${target.id}`, body(`extra ${round} b`)),
          () => api('target DELETE', 'DELETE', `/provisioning-targets/${target.id}`),
          () => api('reprovision POST', 'POST', '/reprovision', { targetId: target.id }),
          () => api('reprovision POST all', 'POST', '/reprovision', {}),
          () => workerPasses(3),
        ]).map((f) => f()),
      );
    }
    assertStatuses('target PUT', [200, 404]);
    assertStatuses('target DELETE', [204, 404]);
    assertStatuses('reprovision POST', [202, 404]);
    assertStatuses('reprovision POST all', [202]);
  });

  it('reprovision vs reprovision on a CO of 80 people, with person changes and the worker', async () => {
    const everyone = await people(Math.max(0, 80 - (await t.db.selectFrom('co_person').select('id').where('co_id', '=', coId).execute()).length));
    const some = shuffled(everyone).slice(0, 6);
    for (let round = 0; round < 3; round++) {
      recorder.delayMs = 0;
      await Promise.all(
        shuffled([
          ...Array.from({ length: 6 }, (_, i) => () => sleep(i * 30).then(() => api('reprovision POST all', 'POST', '/reprovision', {}))),
          ...some.map((p, i) => () => api('status PUT beside reprovisions', 'PUT', `/people/${p.id}/status`, { status: (round + i) % 2 ? 'active' : 'grace_period' })),
          ...some.slice(0, 3).map((p) => () => api('token POST beside reprovisions', 'POST', `/people/${p.id}/service-tokens`, { serviceId, label: `r${round}` })),
          () => workerPasses(6),
        ]).map((f) => f()),
      );
    }
    assertStatuses('reprovision POST all', [202]);
    assertStatuses('status PUT beside reprovisions', [200]);
    assertStatuses('token POST beside reprovisions', [201, 422]);
  });

  it('answered no 5xx, failed no worker pass, and left the database consistent', async () => {
    const failures = sent.filter((s) => s.status >= 500);
    assert.deepEqual(failures, [], `${failures.length} of ${sent.length} requests answered 5xx`);
    assert.ok(sent.length > 300, `enough requests raced (${sent.length})`);
    assert.deepEqual(workerErrors.map(String), [], 'no worker pass failed');
    assert.equal(t.logs.filter((l) => l.includes('"unhandled error"')).length, 0, 'no unhandled error was logged');

    // Settle: the worker runs what is left.
    recorder.delayMs = 0;
    await t.worker.drain();
    const open = await t.db.selectFrom('provisioning_job').select(['id', 'state', 'last_error']).where('state', 'in', ['pending', 'running']).execute();
    assert.deepEqual(open, [], 'every job ran');
    const failed = await t.db.selectFrom('provisioning_job').select(['id', 'last_error']).where('state', '=', 'failed').execute();
    assert.deepEqual(failed, [], 'no job failed');

    // What each target holds follows the registry: every person of the CO provisioned to the
    // targets that remain as their status says, every deleted person removed.
    const persons = new Map((await t.db.selectFrom('co_person').select(['id', 'status']).where('co_id', '=', coId).execute()).map((p) => [p.id, p.status]));
    const remaining = (await t.db.selectFrom('provisioning_target').select('id').where('co_id', '=', coId).execute()).map((r) => r.id);
    assert.ok(targets.every((x) => remaining.includes(x.id)), 'the two base targets are still there');
    const states = await t.db.selectFrom('provisioning_state').select(['target_id', 'person_id', 'status']).where('co_id', '=', coId).execute();
    assert.ok(states.every((s) => remaining.includes(s.target_id)), 'no state of a deleted target is left');
    const held = new Map(states.map((s) => [`${s.target_id}|${s.person_id}`, s.status]));
    for (const target of targets) {
      for (const [personId, status] of persons) {
        const expected = keepsEntry(status) ? 'provisioned' : 'removed';
        assert.equal(held.get(`${target.id}|${personId}`), expected, `target ${target.description}, person ${personId} (${status})`);
      }
    }
    const gone = states.filter((s) => !persons.has(s.person_id));
    assert.ok(gone.length > 0, 'some people were deleted during the races');
    assert.deepEqual(gone.filter((s) => s.status !== 'removed'), [], 'every deleted person was removed from every target');

    // No row refers to something that is gone (foreign keys hold it; this checks the tables the
    // schema does not tie: jobs and states name people by id).
    const memberships = await t.db.selectFrom('co_group_member').select(['person_id', 'group_id']).where('co_id', '=', coId).execute();
    assert.ok(memberships.every((m) => persons.has(m.person_id)), 'memberships of existing people only');
    const tokens = await t.db.selectFrom('service_token').select(['person_id']).where('co_id', '=', coId).execute();
    assert.ok(tokens.every((x) => persons.has(x.person_id)), 'tokens of existing people only');
  });
});
