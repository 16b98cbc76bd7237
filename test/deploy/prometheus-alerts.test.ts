// deploy/prometheus/tessera-alerts.yml names only metrics /metrics exports: every tessera_* name in
// an alert expression is a family the code defines (src/core/http/operations-metrics.test.ts checks
// that those families appear in /metrics with the right values), so a renamed metric breaks here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Metrics } from '../../src/core/http/metrics.ts';

const RULES = readFileSync(fileURLToPath(new URL('../../deploy/prometheus/tessera-alerts.yml', import.meta.url)), 'utf8');

/** The metric families the code defines: names in `name: '…'` and `count('…'` / `observe('…'` calls under src/. */
function definedFamilies(): Set<string> {
  const sources = [
    'src/core/provisioning/outbox-gauges.ts',
    'src/core/notifications/email-queue-gauges.ts',
    'src/plugins/ldap-provisioner/ldap-reachability.ts',
    'src/plugins/service-tokens/verification/verification.api.ts',
    'src/core/http/metrics.ts',
  ].map((f) => readFileSync(fileURLToPath(new URL(`../../${f}`, import.meta.url)), 'utf8'));
  const names = new Set<string>();
  for (const text of sources) for (const m of text.matchAll(/['`](tessera_[a-z_]+)['`]/g)) names.add(m[1]!);
  return names;
}

it('every alert is well formed and names metrics Tessera exports', async () => {
  const alerts = [...RULES.matchAll(/^\s+- alert: (\w+)\n\s+expr: (.+)$/gm)].map((m) => ({ name: m[1]!, expr: m[2]! }));
  assert.ok(alerts.length >= 10, `found ${alerts.length} alerts`);
  assert.equal(new Set(alerts.map((a) => a.name)).size, alerts.length, 'alert names are unique');
  const families = definedFamilies();
  const text = await new Metrics().render();
  for (const { name, expr } of alerts) {
    for (const [metric] of expr.matchAll(/tessera_[a-z_]+/g)) {
      const family = metric.replace(/_(bucket|sum|count)$/, '');
      assert.ok(families.has(metric) || families.has(family) || text.includes(`# TYPE ${metric} `), `${name}: ${metric} is not exported`);
    }
  }
  for (const needed of ['tessera_directory_up', 'tessera_outbox_oldest_pending_age_seconds', 'tessera_email_oldest_pending_age_seconds', 'tessera_token_verifications_total']) {
    assert.ok(RULES.includes(needed), `an alert watches ${needed}`);
  }
});
