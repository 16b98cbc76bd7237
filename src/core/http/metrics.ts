/** A small Prometheus text-format registry: request counts and latency by route and status. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, { sum: number; count: number; buckets: number[] }>();
  private static readonly BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  private readonly counters = new Map<string, { help: string; value: number }>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route.replace(/"/g, '')}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const dkey = `method="${method}",route="${route.replace(/"/g, '')}"`;
    const d = this.durations.get(dkey) ?? { sum: 0, count: 0, buckets: Metrics.BOUNDS.map(() => 0) };
    d.sum += seconds;
    d.count += 1;
    Metrics.BOUNDS.forEach((b, i) => {
      if (seconds <= b) d.buckets[i]! += 1;
    });
    this.durations.set(dkey, d);
  }

  /** Increments a named counter (plugins use it, e.g. tessera_service_tokens_generated_total). */
  inc(name: string, help: string, by = 1): void {
    const c = this.counters.get(name) ?? { help, value: 0 };
    c.value += by;
    this.counters.set(name, c);
  }

  render(gauges: Record<string, { help: string; value: number }> = {}): string {
    const out: string[] = [];
    out.push('# HELP tessera_http_requests_total HTTP requests by route and status', '# TYPE tessera_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`tessera_http_requests_total{${k}} ${v}`);
    out.push('# HELP tessera_http_request_duration_seconds HTTP request duration', '# TYPE tessera_http_request_duration_seconds histogram');
    for (const [k, d] of this.durations) {
      Metrics.BOUNDS.forEach((b, i) => out.push(`tessera_http_request_duration_seconds_bucket{${k},le="${b}"} ${d.buckets[i]}`));
      out.push(`tessera_http_request_duration_seconds_bucket{${k},le="+Inf"} ${d.count}`);
      out.push(`tessera_http_request_duration_seconds_sum{${k}} ${d.sum}`);
      out.push(`tessera_http_request_duration_seconds_count{${k}} ${d.count}`);
    }
    for (const [name, c] of this.counters) out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`, `${name} ${c.value}`);
    for (const [name, g] of Object.entries(gauges)) out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    out.push('# HELP process_uptime_seconds Uptime', '# TYPE process_uptime_seconds gauge', `process_uptime_seconds ${Math.round(process.uptime())}`);
    return `${out.join('\n')}\n`;
  }
}
