import type { BenchReport } from './types.ts';

/** A parsed goal: the comparison and its bound. */
interface Goal {
  readonly op: '<=' | '>=';
  readonly bound: number;
}

/** Parses a goal string such as `"<= 0.02"`; throws on anything else. */
export function parseGoal(goal: string): Goal {
  const m = /^\s*(<=|>=)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(goal);
  if (m === null) throw new Error(`goal "${goal}" must look like "<= 0.02" or ">= 1.5"`);
  return { op: m[1] as Goal['op'], bound: Number(m[2]) };
}

/** Whether `value` meets `goal`; a non-finite value never does. */
export function goalMet(value: number, goal: string): boolean {
  const { op, bound } = parseGoal(goal);
  if (!Number.isFinite(value)) return false;
  return op === '<=' ? value <= bound : value >= bound;
}

/** The one-line JSON form: the contract keys `bench`, `results`, `ratios`, `goals`, `params`. */
export function toJsonLine(bench: string, report: BenchReport): string {
  return JSON.stringify({ bench, results: report.results, ratios: report.ratios, goals: report.goals, params: report.params });
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) || Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(4);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The human-readable form: results per system, then ratios with their goals. */
export function toTable(bench: string, report: BenchReport): string {
  const resultRows: string[][] = [];
  for (const [system, metrics] of Object.entries(report.results)) {
    for (const [name, value] of Object.entries(metrics)) resultRows.push([system, name, formatNumber(value)]);
  }
  const ratioRows = Object.entries(report.ratios).map(([name, value]) => {
    const goal = report.goals[name];
    return [name, formatNumber(value), goal ?? '(info)', goal === undefined ? '' : goalMet(value, goal) ? 'met' : 'MISSED'];
  });
  const params = Object.entries(report.params).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [
    `bench ${bench}`,
    '',
    table(['system', 'metric', 'value'], resultRows),
    '',
    table(['ratio', 'value', 'goal', ''], ratioRows),
    '',
    'params',
    ...params,
  ].join('\n');
}
