// CPU profiles of one stretch of a benchmark (node:inspector in this process), and a summary of
// where the time went: self time by source area, and the busiest functions.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sampled function lives: a package, a source folder of Tessera, or a V8 pseudo-frame. */
function areaOf(frame: ProfileNode['callFrame']): string {
  if (['(idle)', '(program)', '(garbage collector)'].includes(frame.functionName)) return frame.functionName;
  const url = frame.url;
  if (!url) return '(native / node internals)';
  const inPackage = url.split('node_modules/').at(-1)!;
  if (inPackage !== url) return `package ${inPackage.startsWith('@') ? inPackage.split('/').slice(0, 2).join('/') : inPackage.split('/')[0]}`;
  const local = /\/(src|bench|test)\/(.*)\/[^/]+$/.exec(url);
  if (local) return `${local[1]}/${local[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** Self time (ms) by area and by function, busiest first, and the total sampled (ms). */
export function summariseProfile(profile: Profile, top = 12): { totalMs: number; areas: Array<[string, number]>; functions: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const frame = byId.get(id)!.callFrame;
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} (${area})`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  });
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]): [string, number] => [k, v / 1000]);
  return { totalMs: total / 1000, areas: sorted(areas), functions: sorted(functions) };
}

/** Profiles `run` (this process only; sampling every 1 ms), writes the .cpuprofile to `file` when given, and returns its summary with the run's result. */
export async function profiled<T>(run: () => Promise<T>, file?: string): Promise<{ result: T; summary: ReturnType<typeof summariseProfile> }> {
  let last!: ReturnType<typeof summariseProfile>;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  let result: T;
  try {
    result = await run();
  } finally {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    if (file) writeFileSync(file, JSON.stringify(profile));
    last = summariseProfile(profile);
  }
  return { result, summary: last };
}

/** A profile summary as a markdown table: share of the sampled time per area and per function. */
export function profileMarkdown(title: string, summary: ReturnType<typeof summariseProfile>): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1)} %`;
  return [
    `**${title}** — ${(summary.totalMs / 1000).toFixed(1)} s sampled in the Tessera process.`,
    '',
    '| Self time by area | ms | share |',
    '|---|---|---|',
    ...summary.areas.map(([k, v]) => `| ${k} | ${v.toFixed(0)} | ${pct(v)} |`),
    '',
    '| Busiest functions (self time) | ms | share |',
    '|---|---|---|',
    ...summary.functions.map(([k, v]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${v.toFixed(0)} | ${pct(v)} |`),
  ].join('\n');
}
