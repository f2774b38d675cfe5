import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/api/node-api.ts';
import type { LiveEvent } from '../../src/api/events.ts';
import type { MemberRecord } from '../../src/membership/member.ts';
import { fieldsSummary, formatBytes, formatDuration, formatValue, renderPairs, renderTable, sanitize, truncate } from '../../src/cli/client/format.ts';
import { eventLine, listView, membersView, objectView, resetLine, statusView } from '../../src/cli/client/views.ts';

const TTY = { tty: true, columns: 80 };
const PIPE = { tty: false, columns: 80 };

describe('tables', () => {
  it('on a terminal: upper-case header, padded columns, no trailing blanks', () => {
    expect(renderTable(['id', 'status'], [['a', 'alive'], ['longer-id', 'dead']], TTY)).toEqual(['ID         STATUS', 'a          alive', 'longer-id  dead']);
  });

  it('in a pipe: tab-separated rows, no header; tabs and newlines inside cells become spaces', () => {
    expect(renderTable(['id', 'status'], [['a', 'alive'], ['b\tc', 'x\ny']], PIPE)).toEqual(['a\talive', 'b c\tx y']);
  });

  it('cuts the last column to the terminal width, never below 20 characters', () => {
    const [, row] = renderTable(['id', 'fields'], [['obj', 'x'.repeat(200)]], { tty: true, columns: 40 });
    expect(row).toHaveLength(40);
    expect(row?.endsWith('…')).toBe(true);
    const [, narrow] = renderTable(['id', 'fields'], [['obj', 'x'.repeat(200)]], { tty: true, columns: 5 });
    expect(narrow).toHaveLength(5 + 20);
    expect(renderTable(['id'], [['x'.repeat(200)]], PIPE)[0]).toHaveLength(200); // pipes are never cut
  });

  it('key/value pairs: aligned on a terminal, tab-separated in a pipe', () => {
    expect(renderPairs([['node', 'n1'], ['generation', '3']], TTY)).toEqual(['node        n1', 'generation  3']);
    expect(renderPairs([['node', 'n1'], ['generation', '3']], PIPE)).toEqual(['node\tn1', 'generation\t3']);
  });
});

describe('values', () => {
  it('escapes control characters so a value cannot drive the terminal', () => {
    expect(sanitize('evil\u001b[31mred\nline\u009bx\u007f')).toBe('evil\\u001b[31mred\\nline\\u009bx\\u007f');
    expect(renderTable(['v'], [['\u001b]0;title\u0007']], TTY)[1]).toBe('\\u001b]0;title\\u0007');
  });

  it('shows strings bare on a terminal and every value as JSON in a pipe', () => {
    expect(formatValue('kitchen', TTY)).toBe('kitchen');
    expect(formatValue('kitchen', PIPE)).toBe('"kitchen"');
    expect(formatValue({ x: 1 }, TTY)).toBe('{"x":1}');
    expect(formatValue(80, PIPE)).toBe('80');
    expect(formatValue('', TTY)).toBe('');
  });

  it('summarises fields as FIELD=JSON', () => {
    expect(fieldsSummary({ on: true, name: 'kitchen', loc: { x: 1 } })).toBe('on=true name="kitchen" loc={"x":1}');
  });

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [61, '1m 1s'],
    [3600, '1h 0m'],
    [3725, '1h 2m'],
    [90_061, '1d 1h'],
  ])('duration %d s is %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [4100, '4.1 kB'],
    [3_000_000, '3.0 MB'],
    [2.5e9, '2.5 GB'],
  ])('%d bytes is %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
  });
});

describe('views', () => {
  const info: NodeInfo = {
    nodeId: 'a'.repeat(32),
    name: 'hall',
    mesh: 'home',
    generation: 3,
    integrity: { tombstonesCollected: 0, staleDetected: 0, staleRecordsDropped: 0, supersededRecordsDropped: 0, seqConflicts: 0, ownWritesRenumbered: 0, recentDrops: [] },
    addresses: ['10.0.0.2'],
    port: 7946,
    url: 'http://10.0.0.2:7946',
    uptimeS: 3725,
    secure: true,
    bootstrapping: false,
    store: { objects: 12, liveFields: 30, tombstones: 2, encodedBytes: 4100 },
    transport: { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 },
    peers: [{ nodeId: 'b'.repeat(32), name: 'garage', status: 'alive', address: '10.0.0.3:7946', link: 'open' }],
  };

  it('status: the node, then its peers with replication lag when known', () => {
    const lines = statusView(info, [{ nodeId: 'b'.repeat(32), name: 'garage', status: 'alive', lagRecords: 4, confirmedSeq: 10, lastContactAgoMs: 2000 }], TTY);
    expect(lines).toContain(`node        ${'a'.repeat(32)} (hall)`);
    expect(lines).toContain('uptime      1h 2m');
    expect(lines).toContain('objects     12 (30 fields, 2 tombstones, 4.1 kB)');
    expect(lines.at(-2)).toMatch(/^PEER +NAME +STATUS +LINK +ADDRESS +LAG +LAST CONTACT$/);
    expect(lines.at(-1)).toMatch(/^b{32} +garage +alive +open +10\.0\.0\.3:7946 +4 +2s ago$/);
    // Without a replication report (an older node), lag shows as "-".
    expect(statusView(info, null, PIPE).at(-1)).toBe(`${'b'.repeat(32)}\tgarage\talive\topen\t10.0.0.3:7946\t-\t-`);
  });

  it('members: one row per member', () => {
    const m = { nodeId: 'c'.repeat(32), name: 'attic', generation: 2, incarnation: 1, status: 'suspect', addresses: ['10.0.0.4'], port: 7946, capabilities: [], tags: {} } as unknown as MemberRecord;
    expect(membersView([m], PIPE)).toEqual([`${'c'.repeat(32)}\tattic\tsuspect\t10.0.0.4:7946\t2\t1`]);
    expect(membersView([m], TTY)[0]).toMatch(/^NODE +NAME +STATUS +ADDRESS +GENERATION +INCARNATION$/);
  });

  it('get: a row per field; ls: a row per object', () => {
    expect(objectView({ id: 'k', fields: { on: true, name: 'kitchen' } }, TTY)).toEqual(['FIELD  VALUE', 'on     true', 'name   kitchen']);
    expect(objectView({ id: 'k', fields: { on: true, name: 'kitchen' } }, PIPE)).toEqual(['on\ttrue', 'name\t"kitchen"']);
    expect(listView([{ id: 'k', fields: { on: true } }], TTY)).toEqual(['ID  FIELDS', 'k   on=true']);
    expect(listView([{ id: 'k', fields: { on: true } }], PIPE)).toEqual(['k\t{"on":true}']);
  });

  it('watch: one line per event for a person', () => {
    const at = new Date(2026, 0, 2, 12, 3, 4, 5).getTime();
    const obj: LiveEvent = { seq: 42, kind: 'object', id: 'kitchen/light', set: { on: true }, removed: ['old'], created: true, deleted: false, origin: 'remote', node: 'n'.repeat(32), ts: { ms: 1, lc: 0 } as never, at };
    expect(eventLine(obj)).toBe(`12:03:04.005  #42  object  kitchen/light  created on=true -old  (remote from ${'n'.repeat(32)})`);
    expect(eventLine({ ...obj, deleted: true, origin: 'local' })).toBe('12:03:04.005  #42  object  kitchen/light  deleted  (local)');
    expect(eventLine({ seq: 43, kind: 'member', nodeId: 'm'.repeat(32), name: 'garage', previous: 'alive', status: 'suspect', at })).toBe(`12:03:04.005  #43  member  garage ${'m'.repeat(32)}  alive → suspect`);
    expect(eventLine({ seq: 44, kind: 'binding', key: 'mqtt', status: 'down', detail: 'refused', at })).toBe('12:03:04.005  #44  binding mqtt  down  refused');
    expect(eventLine({ ...obj, id: 'evil\u001b[2J' })).toContain('evil\\u001b[2J');
    expect(resetLine({ kind: 'reset', reason: 'history too short to resume', oldest: 16, latest: 20, epoch: 'e' })).toBe('events may be missing: history too short to resume; replaying from #16 (latest #20)');
  });
});
