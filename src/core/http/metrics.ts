/** Label names and values of one sample, e.g. `{ target_id: '…', state: 'pending' }`. */
export type Labels = Record<string, string>;

/** One gauge value read at scrape time. */
export interface GaugeSample {
  name: string;
  help: string;
  labels: Labels;
  value: number;
}

/** Reads gauges when /metrics is scraped (queue depths from the database, reachability). */
export type GaugeCollector = () => Promise<GaugeSample[]> | GaugeSample[];

interface Histogram {
  sum: number;
  count: number;
  buckets: number[];
}

/** `{a="x",b="y"}`, values escaped as the Prometheus text format wants (backslash, quote, newline). */
function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

/** `labelText` of label objects already seen: hot paths pass the same (frozen) objects again and again. */
const labelTexts = new WeakMap<Labels, string>();
function labelKey(labels: Labels): string {
  if (!Object.isFrozen(labels)) return labelText(labels);
  let text = labelTexts.get(labels);
  if (text === undefined) {
    text = labelText(labels);
    labelTexts.set(labels, text);
  }
  return text;
}

/**
 * A small Prometheus text-format registry: request counts and latency by route and status, named
 * counters and histograms with labels, and gauges collected at scrape time. Counters and
 * histograms are this process's; collected gauges are whatever their collector reads.
 */
export class Metrics {
  private static readonly BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly histograms = new Map<string, { help: string; values: Map<string, Histogram> }>();
  private readonly collectors: GaugeCollector[] = [];
  /** The frozen label objects of `observeRequest`, by method, route and status. */
  private readonly requestLabels = new Map<string, { count: Labels; duration: Labels }>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const series = `${method} ${status} ${route}`;
    let labels = this.requestLabels.get(series);
    if (!labels) {
      labels = { count: Object.freeze({ method, route, status: String(status) }), duration: Object.freeze({ method, route }) };
      if (this.requestLabels.size < 10_000) this.requestLabels.set(series, labels);
    }
    this.count('tessera_http_requests_total', 'HTTP requests by route and status', labels.count);
    this.observe('tessera_http_request_duration_seconds', 'HTTP request duration', labels.duration, seconds);
  }

  /** Increments a named counter (plugins use it, e.g. tessera_service_tokens_generated_total). */
  inc(name: string, help: string, by = 1): void {
    this.count(name, help, {}, by);
  }

  /** Increments the counter `name` for these labels (created at 0 on first use). A frozen `labels` object is formatted once and reused. */
  count(name: string, help: string, labels: Labels, by = 1): void {
    let family = this.counters.get(name);
    if (!family) this.counters.set(name, (family = { help, values: new Map<string, number>() }));
    const key = labelKey(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** Records one observation, in seconds, in the histogram `name` for these labels (a frozen object is formatted once). */
  observe(name: string, help: string, labels: Labels, seconds: number): void {
    let family = this.histograms.get(name);
    if (!family) this.histograms.set(name, (family = { help, values: new Map<string, Histogram>() }));
    const key = labelKey(labels);
    let h = family.values.get(key);
    if (!h) family.values.set(key, (h = { sum: 0, count: 0, buckets: Metrics.BOUNDS.map(() => 0) }));
    h.sum += seconds;
    h.count += 1;
    const bounds = Metrics.BOUNDS;
    for (let i = 0; i < bounds.length; i++) if (seconds <= bounds[i]!) h.buckets[i]! += 1;
  }

  /** Adds gauges read at every scrape. A collector that fails is reported as tessera_metrics_collector_errors. */
  collect(collector: GaugeCollector): void {
    this.collectors.push(collector);
  }

  /** The text exposition: counters, histograms, collected gauges, `gauges` given here, process figures. */
  async render(gauges: Record<string, { help: string; value: number }> = {}): Promise<string> {
    const out: string[] = [];
    for (const [name, family] of this.counters) {
      out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of family.values) out.push(`${name}${labels} ${value}`);
    }
    for (const [name, family] of this.histograms) {
      out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} histogram`);
      for (const [labels, h] of family.values) {
        const inner = labels.slice(1, -1);
        const withLe = (le: string) => `{${inner ? `${inner},` : ''}le="${le}"}`;
        Metrics.BOUNDS.forEach((b, i) => out.push(`${name}_bucket${withLe(String(b))} ${h.buckets[i]}`));
        out.push(`${name}_bucket${withLe('+Inf')} ${h.count}`, `${name}_sum${labels} ${h.sum}`, `${name}_count${labels} ${h.count}`);
      }
    }
    let failed = 0;
    const samples: GaugeSample[] = [];
    for (const collector of this.collectors) {
      try {
        samples.push(...(await collector()));
      } catch {
        failed++;
      }
    }
    for (const [name, g] of Object.entries(gauges)) samples.push({ name, help: g.help, labels: {}, value: g.value });
    const byName = new Map<string, GaugeSample[]>();
    for (const s of samples) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    for (const [name, list] of byName) {
      out.push(`# HELP ${name} ${list[0]!.help}`, `# TYPE ${name} gauge`);
      for (const s of list) out.push(`${name}${labelText(s.labels)} ${s.value}`);
    }
    out.push('# HELP tessera_metrics_collector_errors Gauge collectors that failed during this scrape', '# TYPE tessera_metrics_collector_errors gauge', `tessera_metrics_collector_errors ${failed}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    out.push('# HELP process_uptime_seconds Uptime', '# TYPE process_uptime_seconds gauge', `process_uptime_seconds ${Math.round(process.uptime())}`);
    return `${out.join('\n')}\n`;
  }
}
