import { describe, expect, it } from 'vitest';
import { parseAssignments, parseValue } from '../../src/cli/client/assignments.ts';
import { CliError, ExitCode } from '../../src/cli/client/exit-codes.ts';

describe('FIELD=VALUE', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['80', 80],
    ['-5', -5],
    ['21.5', 21.5],
    ['1e3', 1000],
    ['null', null],
    ['{"x":1}', { x: 1 }],
    ['[1,"a"]', [1, 'a']],
    ['"quoted"', 'quoted'],
    ['"80"', '80'],
    ['kitchen', 'kitchen'],
    ['', ''],
    ['True', 'True'],
    ['NaN', 'NaN'],
    ['{x:1}', '{x:1}'],
    ['on off', 'on off'],
    ['12345678901234567890', '12345678901234567890'], // JSON would round it: kept exact, as text
    ['9007199254740991', 9007199254740991],
  ])('value %j is %j', (text, value) => {
    expect(parseValue(text)).toEqual(value);
  });

  it('splits at the first "=", keeps later ones in the value', () => {
    expect(parseAssignments(['on=true', 'level=80', 'location={"x":1}', 'name=kitchen', 'empty=', 'eq=a=b'])).toEqual({
      on: true,
      level: 80,
      location: { x: 1 },
      name: 'kitchen',
      empty: '',
      eq: 'a=b',
    });
  });

  it('takes a field named __proto__ as an ordinary field', () => {
    const fields = parseAssignments(['__proto__=1']);
    expect(Object.keys(fields)).toEqual(['__proto__']);
    expect(JSON.stringify(fields)).toBe('{"__proto__":1}');
  });

  it.each([
    [['bad'], /"bad" is not FIELD=VALUE/],
    [['=5'], /no field name/],
    [['a=1', 'a=2'], /given twice/],
  ])('%j is a usage error', (pairs, message) => {
    let error: unknown;
    try {
      parseAssignments(pairs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.Usage);
    expect((error as CliError).message).toMatch(message);
  });
});
