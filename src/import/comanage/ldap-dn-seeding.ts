// Keeps the DNs COmanage's LdapProvisioner gave people (cm_co_ldap_provisioner_dns, see
// app/Plugin/LdapProvisioner/Config/Schema/schema.xml): each becomes the person's provisioning
// state in the Tessera LDAP target the operator names, and the target may adopt existing entries
// (the one legitimate use of that switch: a migration), so the next provisioning run takes the
// entries over where they are instead of adding new ones. A DN COmanage wrote with an unescaped
// value (it did not escape identifiers) is not a DN: it is not carried over, and the report says
// where Tessera will put the entry instead.
import type { Kysely } from 'kysely';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { LdapProvisionerTables } from '../../plugins/ldap-provisioner/ldap-entry-claim.table.ts';
import { buildDn, parseDn, sameDn } from '../../plugins/ldap-provisioner/ldap-dn.ts';
import { LDAP_PROVISIONER_TYPE } from '../../plugins/ldap-provisioner/ldap-extension.ts';
import type { Skipped } from './comanage-people.ts';
import type { ComanageSnapshot } from './comanage-reader.ts';
import { IMPORT_ACTOR_LABEL } from './comanage-services.ts';
import type { Item } from './import-sync.ts';
import type { ImportMap, KindWriter } from './import-sync.ts';
import { newId } from '../../db/ids.ts';

/** `--ldap-target CM=TESSERA`: a COmanage LDAP provisioner target (cm_co_ldap_provisioner_targets.id) and the Tessera LDAP target that takes over its entries. */
export interface LdapTargetLink {
  cmTargetId: number;
  tesseraTargetId: string;
}

export type LdapImportDb = Kysely<CoreDatabase & LdapProvisionerTables>;

interface DnValues {
  targetId: string;
  personId: string;
  dn: string;
}

/** The target's naming settings (ldapTargetSettingsSchema defaults: uid, uid). */
function namingOf(config: string): { baseDn: string; dnAttribute: string; dnIdentifierType: string } {
  const parsed = JSON.parse(config) as Record<string, unknown>;
  const text = (key: string, fallback: string) => (typeof parsed[key] === 'string' && parsed[key] !== '' ? (parsed[key] as string) : fallback);
  return { baseDn: text('baseDn', ''), dnAttribute: text('dnAttribute', 'uid'), dnIdentifierType: text('dnIdentifierType', 'uid') };
}

/**
 * The DNs to keep, per linked target. Throws (the CO is then not imported) when a link names a
 * COmanage target of another CO or a Tessera target that is not an LDAP target of this CO.
 */
export async function ldapDnItems(db: LdapImportDb, s: ComanageSnapshot, coId: string, map: ImportMap, links: readonly LdapTargetLink[], skipped: Skipped[], notes: string[]): Promise<Array<Item<DnValues>>> {
  const out: Array<Item<DnValues>> = [];
  for (const link of links) {
    if (!s.ldapTargets.some((t) => t.id === link.cmTargetId)) continue;
    const target = await db.selectFrom('provisioning_target').select(['id', 'config', 'provisioner_type']).where('co_id', '=', coId).where('id', '=', link.tesseraTargetId).executeTakeFirst();
    if (!target || target.provisioner_type !== LDAP_PROVISIONER_TYPE) throw new Error(`--ldap-target ${link.cmTargetId}=${link.tesseraTargetId}: the Tessera CO ${coId} has no LDAP target with that id (create it first, then run the import again)`);
    const naming = namingOf(target.config);
    for (const row of s.ldapDns.filter((d) => d.co_ldap_provisioner_target_id === link.cmTargetId)) {
      const personId = map.idOf('person', row.co_person_id);
      if (!personId || !row.dn) continue;
      const value = s.identifiers
        .filter((i) => i.co_person_id === row.co_person_id && i.type === naming.dnIdentifierType && i.status === 'A' && i.identifier)
        .sort((a, b) => Number(b.login === true || b.login === 1) - Number(a.login === true || a.login === 1))[0]?.identifier;
      const expected = value ? buildDn(naming.dnAttribute, value.normalize('NFC'), naming.baseDn) : undefined;
      let valid = true;
      try {
        parseDn(row.dn);
      } catch {
        valid = false;
      }
      if (!valid) {
        skipped.push({ kind: 'ldap-dn', cmId: row.id, reason: `"${row.dn}" is not a DN (COmanage wrote the identifier unescaped); Tessera provisions the person at ${expected ?? '(no DN: no active identifier of the DN type)'} and leaves whatever stands at the old name alone` });
        continue;
      }
      if (expected && !sameDn(row.dn, expected)) notes.push(`LDAP DN ${row.dn}: Tessera names this person ${expected} and renames the entry there on the next provisioning run`);
      out.push({ cmId: `${link.cmTargetId}:${row.id}`, values: { targetId: target.id, personId, dn: expected && sameDn(row.dn, expected) ? expected : row.dn } });
    }
  }
  return out;
}

/**
 * Seeds provisioning states (status provisioned, the DN as target key, no record of Tessera's own
 * writes, so the provisioner takes the entry over) and switches on adoption for the targets
 * concerned, recording who did. A person Tessera already provisions to the target keeps its state.
 */
export function ldapDnWriter(db: LdapImportDb, coId: string, now: string): KindWriter<DnValues> {
  return {
    insert: async (rows) => {
      for (const { values } of rows) {
        const existing = await db.selectFrom('provisioning_state').select('id').where('target_id', '=', values.targetId).where('person_id', '=', values.personId).executeTakeFirst();
        if (!existing) {
          await db.insertInto('provisioning_state').values({ id: newId(), co_id: coId, target_id: values.targetId, person_id: values.personId, status: 'provisioned', target_key: values.dn, detail: '{}', last_error: null, last_attempt_at: now, last_success_at: now }).execute();
        }
      }
      for (const targetId of new Set(rows.map((r) => r.values.targetId))) {
        const on = await db.selectFrom('ldap_target_adoption').select('target_id').where('target_id', '=', targetId).executeTakeFirst();
        if (on) continue;
        await db.insertInto('ldap_target_adoption').values({ target_id: targetId, set_by: IMPORT_ACTOR_LABEL, set_at: now }).execute();
        await db.insertInto('history_record').values({ id: newId(), co_id: coId, person_id: null, group_id: null, service_id: null, actor_person_id: null, actor_api_user_id: null, actor_label: IMPORT_ACTOR_LABEL, action: 'LDAP_ADOPTION_ENABLED', comment: 'Adopt existing entries switched on to take over the entries COmanage Registry provisioned', created_at: now }).execute();
      }
    },
    // The DN COmanage had changed: Tessera's state follows only while Tessera has not written the entry itself.
    update: async (_id, values) => {
      await db.updateTable('provisioning_state').set({ target_key: values.dn }).where('target_id', '=', values.targetId).where('person_id', '=', values.personId).where('detail', '=', '{}').execute();
    },
    remove: async (ids) => ids,
  };
}
