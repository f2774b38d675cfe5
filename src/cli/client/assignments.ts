import type { Json } from '../../core/json.ts';
import { CliError, ExitCode } from './exit-codes.ts';

/**
 * The value of `FIELD=VALUE`: JSON when VALUE parses as JSON (`true`, `80`, `{"x":1}`, `null`,
 * `"quoted"`), otherwise the text itself. Integers JSON would round (beyond 2^53) stay text.
 */
export function parseValue(text: string): Json {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return text;
  }
  if (typeof value === 'number' && /^\s*-?\d+\s*$/.test(text) && !Number.isSafeInteger(value)) return text;
  return value;
}

/** Parses `FIELD=VALUE` pairs (split at the first `=`) into fields; a malformed pair is a usage error. */
export function parseAssignments(pairs: readonly string[]): Record<string, Json> {
  // No prototype: a field named __proto__ is a field like any other.
  const fields = Object.create(null) as Record<string, Json>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new CliError(ExitCode.Usage, `"${pair}" is not FIELD=VALUE`);
    const name = pair.slice(0, eq);
    if (name.length === 0) throw new CliError(ExitCode.Usage, `"${pair}" has no field name before "="`);
    if (Object.hasOwn(fields, name)) throw new CliError(ExitCode.Usage, `field "${name}" is given twice`);
    fields[name] = parseValue(pair.slice(eq + 1));
  }
  return fields;
}
