import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Reading /metrics output and docs/metrics.md, for the in-process and real-process tests.

const ROOT = new URL('../../', import.meta.url).pathname;

/** One sample line of the Prometheus text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus text: TYPE lines and samples; throws on a line it cannot read. */
export function parseMetrics(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparseable metrics line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1] as string] = l[2] as string;
    // Go's ParseFloat, which Prometheus uses, reads NaN and Inf in any case (prom-client writes "Nan").
    const raw = (m[3] as string).toLowerCase();
    const value = raw === 'nan' ? NaN : raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad value in ${line}`);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { types, samples };
}

/** The metrics docs/metrics.md documents, with their types, from its tables. */
export function documentedMetrics(): Map<string, string> {
  const doc = readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `(chorus_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}
