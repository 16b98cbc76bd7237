// How each kind of imported object is written to Tessera's tables: multi-row inserts in chunks
// (see `chunks`), updates by id, and what "removed at the source" means for each kind.
import type { Kysely } from 'kysely';
import { ADMINS_GROUP_NAME, MEMBERS_GROUP_NAME } from '../../core/cos/co.service.ts';
import { BUILT_IN_IDENTIFIER_TYPES } from '../../core/people/person.schema.ts';
import { syncSearchTermsOfParts } from '../../core/people/person-search-terms.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { newId } from '../../db/ids.ts';
import type { ServiceTokenTables } from '../../plugins/service-tokens/service-token.table.ts';
import { chunks } from './import-sync.ts';
import type { CoGroupMemberTable, CoGroupTable } from '../../core/groups/group.table.ts';
import type { CoPersonTable, EmailAddressTable, IdentifierTable, NameTable } from '../../core/people/person.table.ts';
import type { CoServiceTable } from '../../core/co-services/co-service.table.ts';
import type { HistoryRecordTable } from '../../core/history/history.table.ts';
import type { ServiceTokenSettingTable, ServiceTokenTable } from '../../plugins/service-tokens/service-token.table.ts';

/** Tessera's tables the import writes. */
export type ImportDb = Kysely<CoreDatabase & ServiceTokenTables>;

type Rows<V> = Array<{ id: string; values: V }>;

/** Runs `work` over `ids` in parts of at most 1000 (an `in (…)` list per statement). */
async function inParts(ids: readonly string[], work: (part: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) await work(ids.slice(i, i + 1000));
}

function withIds<V extends object>(rows: Rows<V>): Array<V & { id: string }> {
  return rows.map((r) => ({ ...r.values, id: r.id }));
}

/** The writers of every kind, bound to the CO import's transaction. */
export function writers(db: ImportDb) {
  /** People gone at the source and suspended: what hangs on them stays, so it is theirs again if they return. */
  let gonePeople = new Set<string>();
  const drop = async (run: () => Promise<unknown>): Promise<string[]> => {
    await run();
    return [];
  };
  /** Of the person-attached rows `ids` of `table`, those of suspended gone people (kept), the others to remove. */
  const split = async (table: 'name' | 'identifier' | 'email_address' | 'co_group_member' | 'service_token', ids: string[]) => {
    if (gonePeople.size === 0) return { keep: [] as string[], remove: ids };
    const keep: string[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await db.selectFrom(table).select(['id', 'person_id']).where('id', 'in', ids.slice(i, i + 1000)).execute();
      keep.push(...rows.filter((r) => gonePeople.has(r.person_id)).map((r) => r.id));
    }
    const kept = new Set(keep);
    return { keep, remove: ids.filter((id) => !kept.has(id)) };
  };
  const co = {
    /** A new CO with its admins group and its automatic members group, as `createCo` makes them. */
    async insert(rows: Rows<{ name: string; description: string; status: 'active' | 'suspended' }>, now: string): Promise<void> {
      for (const { id, values } of rows) {
        await db.insertInto('co').values({ id, ...values, is_platform: 0, created_at: now, updated_at: now }).execute();
        await db.insertInto('co_group').values([
          { id: newId(), co_id: id, name: ADMINS_GROUP_NAME, description: `Administrators of ${values.name}`, status: 'active', group_type: 'admins', created_at: now },
          { id: newId(), co_id: id, name: MEMBERS_GROUP_NAME, description: `Active members of ${values.name}`, status: 'active', group_type: 'members', created_at: now },
        ]).execute();
      }
    },
    update: async (id: string, values: { name: string; description: string; status: 'active' | 'suspended' }) => {
      await db.updateTable('co').set(values).where('id', '=', id).execute();
    },
    // A CO gone from COmanage is left in Tessera: removing a whole CO is an administrator's decision.
    remove: async (ids: string[]) => ids,
  };
  return {
    /** Tells the writers which people are gone at the source (after people were synced). */
    setGonePeople(ids: Set<string>): void {
      gonePeople = ids;
    },
    co,
    group: {
      insert: async (rows: Rows<Omit<CoGroupTable, 'id'>>) => { for (const c of chunks(withIds(rows), 7)) await db.insertInto('co_group').values(c).execute(); },
      update: async (id: string, v: Omit<CoGroupTable, 'id'>) => { await db.updateTable('co_group').set(v).where('id', '=', id).execute(); },
      remove: (ids: string[]) => drop(() => inParts(ids, (part) => db.deleteFrom('co_group').where('id', 'in', part).execute())),
    },
    name: {
      insert: async (rows: Rows<Omit<NameTable, 'id'>>) => { for (const c of chunks(withIds(rows), 10)) await db.insertInto('name').values(c).execute(); await syncSearchTermsOfParts(db, 'name', rows.map((r) => r.id)); },
      update: async (id: string, v: Omit<NameTable, 'id'>) => { await db.updateTable('name').set(v).where('id', '=', id).execute(); await syncSearchTermsOfParts(db, 'name', [id]); },
      remove: async (ids: string[]) => {
        const { keep, remove } = await split('name', ids);
        await inParts(remove, (part) => db.deleteFrom('name').where('id', 'in', part).execute());
        return keep;
      },
    },
    identifier: {
      insert: async (rows: Rows<Omit<IdentifierTable, 'id'>>) => { for (const c of chunks(withIds(rows), 10)) await db.insertInto('identifier').values(c).execute(); await syncSearchTermsOfParts(db, 'identifier', rows.map((r) => r.id)); },
      update: async (id: string, v: Omit<IdentifierTable, 'id'>) => { await db.updateTable('identifier').set(v).where('id', '=', id).execute(); await syncSearchTermsOfParts(db, 'identifier', [id]); },
      remove: async (ids: string[]) => {
        const { keep, remove } = await split('identifier', ids);
        await inParts(remove, (part) => db.deleteFrom('identifier').where('id', 'in', part).execute());
        return keep;
      },
    },
    email: {
      insert: async (rows: Rows<Omit<EmailAddressTable, 'id'>>) => { for (const c of chunks(withIds(rows), 7)) await db.insertInto('email_address').values(c).execute(); await syncSearchTermsOfParts(db, 'email_address', rows.map((r) => r.id)); },
      update: async (id: string, v: Omit<EmailAddressTable, 'id'>) => { await db.updateTable('email_address').set(v).where('id', '=', id).execute(); await syncSearchTermsOfParts(db, 'email_address', [id]); },
      remove: async (ids: string[]) => {
        const { keep, remove } = await split('email_address', ids);
        await inParts(remove, (part) => db.deleteFrom('email_address').where('id', 'in', part).execute());
        return keep;
      },
    },
    membership: {
      insert: async (rows: Rows<Omit<CoGroupMemberTable, 'id'>>) => { for (const c of chunks(withIds(rows), 10)) await db.insertInto('co_group_member').values(c).execute(); },
      update: async (id: string, v: Omit<CoGroupMemberTable, 'id'>) => { await db.updateTable('co_group_member').set(v).where('id', '=', id).execute(); },
      remove: async (ids: string[]) => {
        const { keep, remove } = await split('co_group_member', ids);
        await inParts(remove, (part) => db.deleteFrom('co_group_member').where('id', 'in', part).execute());
        return keep;
      },
    },
    service: {
      insert: async (rows: Rows<Omit<CoServiceTable, 'id'>>) => { for (const c of chunks(withIds(rows), 16)) await db.insertInto('co_service').values(c).execute(); },
      update: async (id: string, v: Omit<CoServiceTable, 'id'>) => { await db.updateTable('co_service').set(v).where('id', '=', id).execute(); },
      // A service gone from COmanage is suspended: its tokens stop, and nothing of it is lost.
      remove: async (ids: string[]) => { await inParts(ids, (part) => db.updateTable('co_service').set({ status: 'suspended' }).where('id', 'in', part).execute()); return ids; },
    },
    tokenSetting: {
      insert: async (rows: Rows<Omit<ServiceTokenSettingTable, 'id'>>) => {
        // A service may have been given settings in Tessera meanwhile (one row per service): those stay.
        const taken = new Set((await db.selectFrom('service_token_setting').select('service_id').where('service_id', 'in', rows.map((r) => r.values.service_id)).execute()).map((r) => r.service_id));
        const fresh = rows.filter((r) => !taken.has(r.values.service_id));
        for (const c of chunks(withIds(fresh), 17)) await db.insertInto('service_token_setting').values(c).execute();
      },
      update: async (id: string, v: Omit<ServiceTokenSettingTable, 'id'>) => { await db.updateTable('service_token_setting').set({ enabled: v.enabled, token_type: v.token_type, updated_at: v.updated_at }).where('id', '=', id).execute(); },
      remove: async (ids: string[]) => ids,
    },
    token: {
      insert: async (rows: Rows<Omit<ServiceTokenTable, 'id'>>) => { for (const c of chunks(withIds(rows), 26)) await db.insertInto('service_token').values(c).execute(); },
      update: async (id: string, v: Omit<ServiceTokenTable, 'id'>) => { await db.updateTable('service_token').set({ hash: v.hash, token_type: v.token_type, token_type_def: v.token_type_def, storage_scheme: v.storage_scheme, display_hint: v.display_hint }).where('id', '=', id).execute(); },
      // A token gone from COmanage (deleted or regenerated there) is revoked, not deleted.
      remove: async (ids: string[]) => {
        const { keep, remove } = await split('service_token', ids);
        await inParts(remove, (part) => db.updateTable('service_token').set({ revoked_at: new Date().toISOString(), revoked_by_label: 'COmanage Registry import', revoked_reason: 'removed in COmanage Registry' }).where('id', 'in', part).where('revoked_at', 'is', null).execute());
        return keep;
      },
    },
    person: {
      insert: async (rows: Rows<Omit<CoPersonTable, 'id'>>) => {
        for (const chunk of chunks(withIds(rows), 5)) await db.insertInto('co_person').values(chunk).execute();
      },
      update: async (id: string, values: Omit<CoPersonTable, 'id'>) => {
        await db.updateTable('co_person').set({ status: values.status, updated_at: values.updated_at }).where('id', '=', id).execute();
      },
      // A person gone from COmanage is suspended, not deleted: the cut-off applies at once, and
      // their tokens come back if they do (the map row is kept, so a return is an update).
      remove: async (ids: string[]) => {
        await inParts(ids, (part) => db.updateTable('co_person').set({ status: 'suspended' }).where('id', 'in', part).execute());
        return ids;
      },
    },
    history: {
      insert: async (rows: Rows<Omit<HistoryRecordTable, 'id'>>) => {
        for (const chunk of chunks(withIds(rows), 12)) await db.insertInto('history_record').values(chunk).execute();
      },
      update: async () => {},
      // History is never removed: what happened, happened.
      remove: async (ids: string[]) => ids,
    },
    /** Adds the identifier types Tessera does not have built in to the CO. */
    async identifierTypes(coId: string, types: readonly string[]): Promise<void> {
      const builtIn = new Set<string>(BUILT_IN_IDENTIFIER_TYPES);
      const known = new Set((await db.selectFrom('co_identifier_type').select('name').where('co_id', '=', coId).execute()).map((r) => r.name));
      for (const name of new Set(types)) {
        if (!builtIn.has(name) && !known.has(name)) await db.insertInto('co_identifier_type').values({ id: newId(), co_id: coId, name }).execute();
      }
    },
  };
}
