// Regression test: several people provisioned in one worker pass, side by side, each the first to
// need a service subtree that is missing two levels deep (ou=<service>,ou=<new unit>,<suffix>),
// with "create the subtree" on. Every job finds the subtree missing, climbs to the missing unit,
// and they add the same units at the same moment on the pass's shared connection: slapd answers
// all but the first with entryAlreadyExists (68). That answer means "the unit is there", which is
// what the job wants; it must not read as "the person's entry exists and Tessera did not make it".
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import { createTarget } from '../../core/provisioning/target.service.ts';
import { targetInput } from '../../core/provisioning/target.schema.ts';
import { buildDirectoryCo, buildMember, SERVICES } from '../../../test/support/integrations.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import { forEachDialect, useTestApp } from '../../../test/support/test-app.ts';
import { ldapProvisionerPlugin } from '../ldap-provisioner/ldap-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../service-tokens/tokens/service-token.service.ts';
import { ldapServiceTokenProvisionerPlugin } from './ldap-service-token-provisioner.plugin.ts';

/** People provisioned in the one pass: the worker's lanes (8 by default) run them all at once. */
const PEOPLE_AT_ONCE = 8;

let slapd: SlapdInstance;
let root: Client;

before(async () => {
  slapd = await startSlapd();
  root = new Client({ url: slapd.url, timeout: 5_000 });
  await root.bind(slapd.rootDn, slapd.rootPassword);
});
after(async () => {
  await root?.unbind().catch(() => undefined);
  await slapd?.stop();
});

async function exists(dn: string): Promise<boolean> {
  try {
    await root.search(dn, { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch {
    return false;
  }
}

forEachDialect('service subtree added by jobs running side by side', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  for (let round = 1; round <= 3; round++) {
    it(`gives every person of the pass their entry; none is refused as foreign (round ${round})`, async () => {
      // A CO of its own: its people's jobs are those of its two targets only.
      const co = await buildDirectoryCo(t, slapd);
      const unit = `ou=race-${Math.random().toString(36).slice(2, 10)},${SERVICES}`;
      const base = `ou=wiki,${unit}`;
      const service = await buildService(t, co.coId, { name: 'Wiki', shortLabel: `wiki${Math.random().toString(36).slice(2, 6)}` });
      await enableTokens(t, co.coId, service.id, { storageScheme: 'SSHA512', maxTokensPerPerson: 3 });
      await createTarget(
        t.ctx,
        SYSTEM_ACTOR,
        co.coId,
        targetInput.parse({
          provisionerType: 'ldap-service-token',
          description: 'Wiki entries',
          ordinal: 20,
          retryIntervalSeconds: 30,
          config: { ldapTargetId: co.ldapTargetId, serviceId: service.id, attribute: 'serviceEntries', serviceBaseDn: base, createServiceSubtree: true },
        }),
      );
      assert.equal(await exists(unit), false, 'both levels of the subtree are missing');
      // Everyone's jobs wait for one pass: people, then a token each, nothing run in between.
      const people = [];
      for (let i = 0; i < PEOPLE_AT_ONCE; i++) {
        const person = await buildMember(t, co.coId);
        const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.coId, person.id, { serviceId: service.id, label: 'device' });
        people.push({ person, secret });
      }
      assert.equal(await t.worker.runOnce(), PEOPLE_AT_ONCE * 2, 'one pass ran every job: each person’s entry and service entry');

      const states = await t.db
        .selectFrom('provisioning_state')
        .innerJoin('provisioning_target', 'provisioning_target.id', 'provisioning_state.target_id')
        .select(['provisioning_state.person_id', 'provisioning_state.status', 'provisioning_state.last_error'])
        .where('provisioning_target.provisioner_type', '=', 'ldap-service-token')
        .where('provisioning_state.person_id', 'in', people.map((p) => p.person.id))
        .execute();
      assert.deepEqual(
        states.map((s) => [s.status, s.last_error]),
        people.map(() => ['provisioned', null]),
        'no job refused its entry (e.g. as "exists already and was not made by Tessera")',
      );
      for (const { person, secret } of people) {
        assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${person.username},${base}`, secret), true, `${person.username}'s entry is there`);
      }
    });
  }
});
