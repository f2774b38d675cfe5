import type { Json } from '../../core/json.ts';

/** How output is rendered: aligned tables for a person at a terminal, tab-separated lines otherwise. */
export interface RenderMode {
  /** stdout is a terminal: headers, padded columns, truncated long cells, escaped control characters. */
  readonly tty: boolean;
  /** Terminal width in columns (ignored when not a tty). */
  readonly columns: number;
}

// C0 and C1 control characters and DEL: a value from the mesh must not drive the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Escapes control characters (`\n`, `\u001b`...) so text cannot move the cursor or recolour a terminal. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A field value as a cell: strings bare on a terminal, everything as JSON otherwise. */
export function formatValue(value: Json, mode: RenderMode): string {
  if (mode.tty && typeof value === 'string') return sanitize(value);
  return JSON.stringify(value);
}

/** `a=1 b="x"`: fields in one line (values as JSON so the line is unambiguous). */
export function fieldsSummary(fields: Readonly<Record<string, Json>>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** Cuts `text` to `width` characters, marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width < 1) return '';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * A table. On a terminal: an upper-case header, columns padded to the widest cell, the last
 * column cut to the terminal width, control characters escaped. Otherwise: one tab-separated
 * line per row, no header, nothing cut (for `cut`, `awk`, `while read`).
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], mode: RenderMode): string[] {
  if (!mode.tty) return rows.map((r) => r.map((cell) => cell.replace(/[\t\n\r]/g, ' ')).join('\t'));
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(sanitize))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const lead = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = Math.max(20, mode.columns - lead);
  return cells.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? truncate(cell, lastWidth) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `key  value` lines for one record (a terminal gets aligned keys; otherwise tab-separated). */
export function renderPairs(pairs: readonly (readonly [string, string])[], mode: RenderMode): string[] {
  if (!mode.tty) return pairs.map(([k, v]) => `${k}\t${v.replace(/[\t\n\r]/g, ' ')}`);
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${sanitize(v)}`);
}

/** `1d 2h`, `3h 0m`, `5m 6s`, `7s`: an uptime or an age, the two largest units. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, name] of units) {
    if (rest >= size || parts.length > 0 || size === 1) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** `512 B`, `4.1 kB`, `3.0 MB` (powers of 1000). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let unit = 'B';
  for (const u of units) {
    if (v < 1000) break;
    v /= 1000;
    unit = u;
  }
  return `${v.toFixed(1)} ${unit}`;
}
