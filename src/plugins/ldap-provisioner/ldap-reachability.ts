import type { Db } from '../../db/database.ts';
import type { GaugeSample } from '../../core/http/metrics.ts';
import { directoryReachability } from './ldap-connection.ts';

/**
 * `tessera_directory_up{target_id}` (1: the last connect and bind worked, 0: it failed) and
 * `tessera_directory_last_attempt_timestamp_seconds{target_id}` for the `ldap` targets of this
 * database that this process's worker has tried to reach. A target not tried yet has no sample.
 */
export async function reachabilityGauges(db: Db): Promise<GaugeSample[]> {
  if (directoryReachability.size === 0) return [];
  const targets = await db.selectFrom('provisioning_target').select('id').where('provisioner_type', '=', 'ldap').execute();
  const samples: GaugeSample[] = [];
  for (const { id } of targets) {
    const seen = directoryReachability.get(id);
    if (!seen) continue;
    const labels = { target_id: id };
    samples.push(
      { name: 'tessera_directory_up', help: 'Whether the last connect and bind to the LDAP target worked (1) or not (0), as this process saw it', labels, value: seen.up ? 1 : 0 },
      { name: 'tessera_directory_last_attempt_timestamp_seconds', help: 'When this process last tried to connect to the LDAP target', labels, value: Math.round(seen.at / 1000) },
    );
  }
  return samples;
}
