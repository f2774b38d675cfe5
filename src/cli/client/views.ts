import type { NodeInfo, PeerReplicationView } from '../../api/node-api.ts';
import type { LiveEvent, ResetMessage } from '../../api/events.ts';
import type { MemberRecord } from '../../membership/member.ts';
import { fieldsSummary, formatBytes, formatDuration, formatValue, renderPairs, renderTable, sanitize, type RenderMode } from './format.ts';
import type { ObjectView } from './node-client.ts';

/** `chorus status`: the node, then one row per peer (with replication lag when the node reports it). */
export function statusView(info: NodeInfo, replication: readonly PeerReplicationView[] | null, mode: RenderMode): string[] {
  const s = info.store;
  const lines = renderPairs(
    [
      ['node', `${info.nodeId} (${info.name})`],
      ['mesh', info.mesh],
      ['url', info.url],
      ['addresses', info.addresses.join(', ')],
      ['generation', String(info.generation)],
      ['uptime', formatDuration(info.uptimeS)],
      ['secure', info.secure ? 'yes (mesh traffic encrypted)' : 'no'],
      ['ready', info.bootstrapping ? 'no (bootstrapping)' : 'yes'],
      ['objects', `${s.objects} (${s.liveFields} fields, ${s.tombstones} tombstones, ${formatBytes(s.encodedBytes)})`],
      ['peers', String(info.peers.length)],
    ],
    mode,
  );
  if (info.peers.length === 0) return lines;
  const byId = new Map((replication ?? []).map((r) => [r.nodeId, r]));
  const rows = info.peers.map((p) => {
    const r = byId.get(p.nodeId);
    const lag = r === undefined || r.lagRecords === null ? '-' : String(r.lagRecords);
    const contact = r === undefined || r.lastContactAgoMs === null ? '-' : `${formatDuration(r.lastContactAgoMs / 1000)} ago`;
    return [p.nodeId, p.name, p.status, p.link, p.address, lag, contact];
  });
  return [...lines, ...(mode.tty ? [''] : []), ...renderTable(['peer', 'name', 'status', 'link', 'address', 'lag', 'last contact'], rows, mode)];
}

/** `chorus members`: one row per member, this node included. */
export function membersView(members: readonly MemberRecord[], mode: RenderMode): string[] {
  const rows = members.map((m) => [m.nodeId, m.name, m.status, `${m.addresses[0] ?? ''}:${m.port}`, String(m.generation), String(m.incarnation)]);
  return renderTable(['node', 'name', 'status', 'address', 'generation', 'incarnation'], rows, mode);
}

/** `chorus get` / `set`: one row per field. */
export function objectView(o: ObjectView, mode: RenderMode): string[] {
  const rows = Object.entries(o.fields).map(([k, v]) => [k, formatValue(v, mode)]);
  return renderTable(['field', 'value'], rows, mode);
}

/** `chorus ls`: one row per object, its fields summarised. */
export function listView(objects: readonly ObjectView[], mode: RenderMode): string[] {
  const rows = objects.map((o) => [o.id, mode.tty ? fieldsSummary(o.fields) : JSON.stringify(o.fields)]);
  return renderTable(['id', 'fields'], rows, mode);
}

/** Time of day with milliseconds, `12:03:04.123` (local time). */
function clock(at: number): string {
  const d = new Date(at);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One line of `chorus watch` for a person: time, seq, kind, subject, what changed. */
export function eventLine(e: LiveEvent): string {
  const head = `${clock(e.at)}  #${e.seq}`;
  switch (e.kind) {
    case 'object': {
      const what = e.deleted ? 'deleted' : [e.created ? 'created' : '', fieldsSummary(e.set), ...e.removed.map((f) => `-${f}`)].filter((s) => s !== '').join(' ');
      const from = e.origin === 'local' ? 'local' : `remote from ${e.node}`;
      return sanitize(`${head}  object  ${e.id}  ${what}  (${from})`);
    }
    case 'member':
      return sanitize(`${head}  member  ${e.name} ${e.nodeId}  ${e.previous} → ${e.status}`);
    case 'binding':
      return sanitize(`${head}  binding ${e.key}  ${e.status}${e.detail === undefined ? '' : `  ${e.detail}`}`);
  }
}

/** The notice printed when the node says events were lost (a reset). */
export function resetLine(r: ResetMessage): string {
  return sanitize(`events may be missing: ${r.reason}; replaying from #${r.oldest} (latest #${r.latest})`);
}
