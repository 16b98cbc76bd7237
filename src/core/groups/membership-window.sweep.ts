import { publishChange, type CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { advanceSweepMark, findSweepMark } from '../jobs/sweep-mark.repository.ts';
import type { Executor } from '../../db/database.ts';
import { inTransaction } from '../../db/transaction.ts';

/** The sweep's name in `sweep_mark`. */
export const MEMBERSHIP_WINDOW_SWEEP = 'membership-windows';

/** How often `tessera serve` and `tessera worker` run the sweep: a transition reaches the outbox within this. */
export const MEMBERSHIP_WINDOW_SWEEP_MS = 20_000;

/**
 * People, by CO, with a membership whose window opened (`valid_from`) or closed (`valid_through`)
 * in (`after`, `through`]; `after` undefined means since the beginning. A membership is valid at t
 * when valid_from ≤ t < valid_through (see `groupsWithValidMembership`), so both bounds change it
 * exactly at their instant. Timestamps are ISO strings in UTC, which compare as text.
 */
async function peopleWithTransitions(db: Executor, after: string | undefined, through: string): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('co_group_member')
    .select(['co_id', 'person_id'])
    .where((eb) =>
      eb.or([
        after === undefined ? eb('valid_from', '<=', through) : eb.and([eb('valid_from', '>', after), eb('valid_from', '<=', through)]),
        after === undefined ? eb('valid_through', '<=', through) : eb.and([eb('valid_through', '>', after), eb('valid_through', '<=', through)]),
      ]),
    )
    .distinct()
    .orderBy('co_id')
    .orderBy('person_id')
    .execute();
  const byCo = new Map<string, string[]>();
  for (const r of rows) byCo.set(r.co_id, [...(byCo.get(r.co_id) ?? []), r.person_id]);
  return byCo;
}

/**
 * Makes the directories follow group membership windows: finds every membership whose
 * `validFrom` or `validThrough` passed since the last sweep (kept in `sweep_mark`, so transitions
 * during downtime are found at the next start) and publishes a change for each such person, so the
 * outbox writes their provisioning jobs (`isMemberOf`, and the token values of services restricted
 * to the group) in the same transaction. One transaction per CO, which it locks alone (it reaches
 * many people; see src/db/transaction.ts); the mark advances only when every CO was handled, so a
 * failed run is repeated whole (repeated events fold into the waiting jobs). Returns how many
 * people it published a change for.
 */
export async function sweepMembershipWindows(ctx: CoreContext): Promise<number> {
  const through = ctx.clock.now().toISOString();
  const after = await findSweepMark(ctx.db, MEMBERSHIP_WINDOW_SWEEP);
  if (after !== undefined && after >= through) return 0;
  let published = 0;
  for (const [coId, personIds] of await peopleWithTransitions(ctx.db, after, through)) {
    published += await inTransaction(ctx.db, async (trx) => {
      if (!(await lockCo(trx, coId, 'exclusive'))) return 0;
      for (const personId of personIds) {
        await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'group membership window opened or closed' });
      }
      return personIds.length;
    });
  }
  await advanceSweepMark(ctx.db, MEMBERSHIP_WINDOW_SWEEP, through);
  return published;
}
