import { sql, type RawBuilder } from 'kysely';
import type { ProgressReporter } from '../source-kind.ts';
import type { SourceGroupRecord, SourceMemberRecord, SourcePersonRecord, SourceSnapshot } from '../source-records.ts';
import { ACTIVE_ROLE_STATUSES, bool, mapGroupKind, mapGroupStatus, mapPersonStatus, utc } from './comanage-mapping.ts';
import type { ComanageConnection } from './comanage-connection.ts';
import type { Layout } from './comanage-layout.ts';

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const opt = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));

/**
 * Reads a SqlProvisioner target into a snapshot (see comanage-layout.ts for where each fact
 * comes from). Rules:
 * - a person's status maps by `mapPersonStatus`; a person COmanage holds Active (or in grace)
 *   whose roles are all inactive or outside their validity window is not eligible and is taken as
 *   suspended (a person with no role row at all keeps their status);
 * - only Active identifiers (status A) are taken; `login` is kept;
 * - names (primary_name marks the primary one) and email addresses (verified kept) are taken whole;
 * - memberships: v4 rows with `member` true only (owner-only rows are not memberships), `owner`
 *   kept; those whose window has closed (`valid_through` ≤ now) are left out, current and future
 *   ones are taken with their window, which Tessera applies itself (a future membership counts
 *   from its `valid_from` without another run);
 * - groups map by `mapGroupKind` (the CO's admins and members groups become Tessera's own).
 * `since` (an ISO timestamp) reads only people and groups with a row `modified` at or after it
 * (an incremental snapshot); the watermark returned is the newest `modified` seen.
 */
export async function readComanage(conn: ComanageConnection, layout: Layout, prefix: string, options: { since: string | null; now: Date; progress: ProgressReporter }): Promise<SourceSnapshot> {
  const t = (name: string) => sql.table(`${prefix}${name}`);
  const c = (name: string) => sql.ref(name);
  const p = layout.personFk;
  const run = async (query: RawBuilder<Row>): Promise<Row[]> => (await query.execute(conn.db)).rows;
  const sinceText = options.since ? options.since.replace('T', ' ').replace(/Z$/, '') : null;
  const newer = sinceText === null ? sql`1 = 1` : sql`${c('modified')} >= ${sinceText}`;

  const maxRows = await run(sql`select max(m) as m from (
    select max(${c('modified')}) as m from ${t(layout.people)} union all select max(${c('modified')}) from ${t(layout.names)}
    union all select max(${c('modified')}) from ${t(layout.identifiers)} union all select max(${c('modified')}) from ${t(layout.emails)}
    union all select max(${c('modified')}) from ${t(layout.roles)} union all select max(${c('modified')}) from ${t(layout.groups)}
    union all select max(${c('modified')}) from ${t(layout.members)}) x`);
  const watermark = utc(maxRows[0]?.m) ?? options.since;

  const types = new Map<string, string>();
  if (layout.types) for (const r of await run(sql`select ${c('id')}, ${c('value')} from ${t(layout.types)}`)) types.set(str(r.id), str(r.value));
  const typeOf = (v: unknown): string => (layout.types ? (types.get(str(v)) ?? `type-${str(v)}`) : str(v)).toLowerCase();

  // Incremental: the people and groups with a row changed since the watermark, read whole.
  let personFilter = sql`1 = 1`;
  let groupFilter = sql`1 = 1`;
  if (sinceText !== null) {
    const ids = new Set<string>();
    for (const r of await run(sql`select ${c('id')} as id from ${t(layout.people)} where ${newer}`)) ids.add(str(r.id));
    for (const table of [layout.names, layout.identifiers, layout.emails, layout.roles, layout.members]) {
      for (const r of await run(sql`select ${c(p)} as id from ${t(table)} where ${newer}`)) ids.add(str(r.id));
    }
    const groupIds = new Set<string>();
    for (const r of await run(sql`select ${c('id')} as id from ${t(layout.groups)} where ${newer}`)) groupIds.add(str(r.id));
    for (const r of await run(sql`select ${c(layout.groupFk)} as id from ${t(layout.members)} where ${newer}`)) groupIds.add(str(r.id));
    const list = (set: Set<string>) => (set.size ? sql.join([...set].map((v) => sql`${v}`)) : sql`null`);
    personFilter = sql`${c(p)} in (${list(ids)})`;
    groupFilter = sql`${c('id')} in (${list(groupIds)})`;
    const peopleIdFilter = sql`${c('id')} in (${list(ids)})`;
    return assemble(await readPeople(peopleIdFilter, personFilter), await readGroups(groupFilter), false);
  }
  return assemble(await readPeople(sql`1 = 1`, personFilter), await readGroups(groupFilter), true);

  async function readPeople(idFilter: RawBuilder<unknown>, fkFilter: RawBuilder<unknown>) {
    await options.progress('reading people', 0, 0);
    const people = await run(sql`select ${c('id')}, ${c('status')} from ${t(layout.people)} where ${idFilter} order by ${c('id')}`);
    await options.progress('reading names', people.length, people.length);
    const names = await run(sql`select ${c(p)} as pid, ${c('given')}, ${c('middle')}, ${c('family')}, ${c('suffix')}, ${c(layout.typeColumn)} as type, ${c('primary_name')} from ${t(layout.names)} where ${fkFilter}`);
    await options.progress('reading identifiers', people.length, people.length);
    const identifiers = await run(sql`select ${c(p)} as pid, ${c('identifier')}, ${c(layout.typeColumn)} as type, ${c('login')} from ${t(layout.identifiers)} where ${fkFilter} and ${c('status')} = 'A'`);
    await options.progress('reading email addresses', people.length, people.length);
    const emails = await run(sql`select ${c(p)} as pid, ${c('mail')}, ${c(layout.typeColumn)} as type, ${c('verified')} from ${t(layout.emails)} where ${fkFilter}`);
    const roles = await run(sql`select ${c(p)} as pid, ${c('status')}, ${c('valid_from')}, ${c('valid_through')} from ${t(layout.roles)} where ${fkFilter}`);
    return { people, names, identifiers, emails, roles };
  }

  async function readGroups(filter: RawBuilder<unknown>) {
    await options.progress('reading groups', 0, 0);
    const groups = await run(sql`select ${c('id')}, ${c('cou_id')}, ${c('name')}, ${c('description')}, ${c('status')}, ${c('group_type')} from ${t(layout.groups)} where ${filter}`);
    const flags = layout.memberFlags ? sql`, ${c('member')}, ${c('owner')}` : sql``;
    const groupIdFilter = groups.length ? sql`${c(layout.groupFk)} in (${sql.join(groups.map((g) => sql`${g.id}`))})` : sql`1 = 0`;
    const members = await run(sql`select ${c(layout.groupFk)} as gid, ${c(p)} as pid, ${c('valid_from')}, ${c('valid_through')}${flags} from ${t(layout.members)} where ${groupIdFilter}`);
    return { groups, members };
  }

  function assemble(
    data: { people: Row[]; names: Row[]; identifiers: Row[]; emails: Row[]; roles: Row[] },
    groupData: { groups: Row[]; members: Row[] },
    complete: boolean,
  ): SourceSnapshot {
    const now = options.now.toISOString();
    const byPerson = new Map<string, SourcePersonRecord>();
    for (const r of data.people) byPerson.set(str(r.id), { externalId: str(r.id), status: mapPersonStatus(opt(r.status)), names: [], identifiers: [], emails: [] });
    for (const n of data.names) byPerson.get(str(n.pid))?.names.push({ given: str(n.given), middle: opt(n.middle), family: opt(n.family), suffix: opt(n.suffix), type: typeOf(n.type) || 'official', primary: bool(n.primary_name) });
    for (const i of data.identifiers) byPerson.get(str(i.pid))?.identifiers.push({ identifier: str(i.identifier), type: typeOf(i.type), login: bool(i.login) });
    for (const e of data.emails) byPerson.get(str(e.pid))?.emails.push({ mail: str(e.mail), type: typeOf(e.type) || 'official', verified: bool(e.verified) });
    const eligible = new Map<string, boolean>();
    for (const role of data.roles) {
      const pid = str(role.pid);
      const from = utc(role.valid_from);
      const through = utc(role.valid_through);
      const valid = ACTIVE_ROLE_STATUSES.includes(str(role.status).trim()) && (from === null || from <= now) && (through === null || through > now);
      eligible.set(pid, (eligible.get(pid) ?? false) || valid);
    }
    for (const [pid, ok] of eligible) {
      const person = byPerson.get(pid);
      if (person && !ok && (person.status === 'active' || person.status === 'grace_period')) person.status = 'suspended';
    }
    const members = new Map<string, SourceMemberRecord[]>();
    for (const m of groupData.members) {
      if (layout.memberFlags && !bool(m.member)) continue;
      const through = utc(m.valid_through);
      if (through !== null && through <= now) continue;
      const list = members.get(str(m.gid)) ?? [];
      list.push({ personExternalId: str(m.pid), validFrom: utc(m.valid_from), validThrough: through, owner: layout.memberFlags ? bool(m.owner) : false });
      members.set(str(m.gid), list);
    }
    const groups: Array<SourceGroupRecord & { members: SourceMemberRecord[] }> = groupData.groups.map((g) => ({
      externalId: str(g.id),
      name: str(g.name),
      description: str(g.description),
      kind: mapGroupKind(opt(g.group_type), g.cou_id),
      status: mapGroupStatus(opt(g.status)),
      members: members.get(str(g.id)) ?? [],
    }));
    return { complete, people: [...byPerson.values()], groups, watermark };
  }
}
