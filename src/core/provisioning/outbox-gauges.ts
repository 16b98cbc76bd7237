// The provisioning outbox as Prometheus gauges, read from the database at scrape time, so they are
// right however many worker processes share it.
import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import type { GaugeSample } from '../http/metrics.ts';
import type { JobState } from './provisioning.table.ts';

const JOB_STATES: JobState[] = ['pending', 'running', 'succeeded', 'failed', 'superseded'];

/**
 * Per target (label `target_id`, and `provisioner` for its type; no CO or person ids):
 * - `tessera_outbox_depth`: jobs waiting or running;
 * - `tessera_outbox_oldest_pending_age_seconds`: age of the oldest of them (0 when none);
 * - `tessera_provisioning_jobs{state}`: jobs by state — the outcomes (`succeeded`, `failed` after
 *   the last retry, `superseded` by a later success) and the open ones;
 * - `tessera_provisioning_jobs_retrying`: waiting jobs whose last attempt failed.
 * One grouped query over every target (a target without jobs reports zeros).
 */
export async function outboxGauges(db: Executor, clock: Clock): Promise<GaugeSample[]> {
  const rows = await db
    .selectFrom('provisioning_target as t')
    .leftJoin('provisioning_job as j', 'j.target_id', 't.id')
    .select([
      't.id as targetId',
      't.provisioner_type as provisioner',
      'j.state as state',
      (eb) => eb.fn.count<string | number>('j.id').as('jobs'),
      sql<string | number | null>`sum(case when ${sql.ref('j.state')} = 'pending' and ${sql.ref('j.attempts')} > 0 then 1 else 0 end)`.as('retrying'),
      sql<string | null>`min(case when ${sql.ref('j.state')} in ('pending', 'running') then ${sql.ref('j.created_at')} end)`.as('oldest'),
    ])
    .groupBy(['t.id', 't.provisioner_type', 'j.state'])
    .execute();
  const now = clock.now().getTime();
  const targets = new Map<string, { provisioner: string; byState: Map<string, number>; retrying: number; oldest: string | undefined }>();
  for (const r of rows) {
    const t = targets.get(r.targetId) ?? { provisioner: r.provisioner, byState: new Map<string, number>(), retrying: 0, oldest: undefined };
    if (r.state) t.byState.set(r.state, Number(r.jobs));
    t.retrying += Number(r.retrying ?? 0);
    if (r.oldest && (!t.oldest || r.oldest < t.oldest)) t.oldest = r.oldest;
    targets.set(r.targetId, t);
  }
  const samples: GaugeSample[] = [];
  for (const [targetId, t] of targets) {
    const labels = { target_id: targetId, provisioner: t.provisioner };
    const open = (t.byState.get('pending') ?? 0) + (t.byState.get('running') ?? 0);
    samples.push(
      { name: 'tessera_outbox_depth', help: 'Provisioning jobs waiting or running, per target', labels, value: open },
      {
        name: 'tessera_outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest waiting or running provisioning job, per target (0 when none)',
        labels,
        value: t.oldest ? Math.max(0, Math.round((now - Date.parse(t.oldest)) / 1000)) : 0,
      },
      { name: 'tessera_provisioning_jobs_retrying', help: 'Waiting provisioning jobs whose last attempt failed, per target', labels, value: t.retrying },
      ...JOB_STATES.map((state) => ({
        name: 'tessera_provisioning_jobs',
        help: 'Provisioning jobs by state, per target: outcomes (succeeded, failed, superseded) and open ones (pending, running)',
        labels: { ...labels, state },
        value: t.byState.get(state) ?? 0,
      })),
    );
  }
  return samples;
}
