import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What /metrics reads from a node when scraped. Each function returns the node's own current
 * totals, so nothing is counted twice: the metrics are views of counters the node keeps anyway.
 */
export interface MetricsSource {
  /** Sync engine counters: `sent:<TYPE>`, `received:<TYPE>`, `dropped:<reason>`, `recordsApplied`, ... */
  engineCounters(): Readonly<Record<string, number>>;
  /** Frame bytes per mesh link held now (a link forgotten after it closed drops out). */
  links(): Readonly<Record<string, { readonly bytesIn: number; readonly bytesOut: number }>>;
  /** Frames the codec refused since start, by reason (every reason present). */
  framesRejected(): Readonly<Record<string, number>>;
  /** The status of every member this node knows, itself included. */
  memberStatuses(): readonly string[];
  /** Per peer: records of ours its last digest lacked; null when no digest was seen yet. */
  replicationLag(): readonly { readonly peer: string; readonly records: number | null }[];
  /** Local writes committed since start, by kind (put, patch, deleteField, deleteObject). */
  writes(): Readonly<Record<string, number>>;
  store(): { readonly objects: number; readonly liveFields: number; readonly tombstones: number; readonly encodedBytes: number };
  /** Storage transactions since start. */
  commits(): { readonly commits: number; readonly failedCommits: number };
  /** Clients connected to the event stream now. */
  eventClients(): number;
}

/** Member statuses always reported, so a status that empties shows 0 rather than vanishing. */
const MEMBER_STATUSES = ['alive', 'suspect', 'dead', 'left'] as const;

/** Latency buckets in seconds: sub-millisecond loopback reads up to write-concern waits. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A total over parts that may vanish or restart from zero (mesh links are forgotten and
 * replaced), kept from going down: a part's last value is retired when it disappears or
 * shrinks. Traffic a part carried after the last observation and before it vanished is lost.
 */
export class MonotonicSum {
  private last = new Map<string, number>();
  private retired = 0;

  /** The total after observing the parts' current values. */
  observe(parts: Readonly<Record<string, number>>): number {
    let live = 0;
    for (const [key, before] of this.last) {
      const now = parts[key];
      if (now === undefined || now < before) this.retired += before;
    }
    this.last = new Map(Object.entries(parts));
    for (const v of this.last.values()) live += v;
    return this.retired + live;
  }
}

/** What registerMetrics made: the node's own registry (never prom-client's global one). */
export interface NodeMetrics {
  readonly registry: Registry;
}

type Read<T> = (s: MetricsSource) => T;

/**
 * Serves `GET /metrics` (Prometheus text, scope 'read') from a registry of this node's own and
 * records every response's latency in `chorus_http_request_duration_seconds`. `source` returns
 * undefined until the node exists; node metrics are then empty (0 when unlabelled). Metric
 * names: docs/metrics.md.
 */
export function registerMetrics(app: FastifyInstance, source: () => MetricsSource | undefined): NodeMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  /** A counter whose labelled values are read from the source at each scrape. */
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], read: Read<Iterable<[Partial<Record<L, string>>, number]>>): void => {
    new Counter<L>({
      name, help, labelNames, registers,
      collect() {
        this.reset();
        const s = source();
        if (s !== undefined) for (const [labels, v] of read(s)) this.inc(labels, v);
      },
    });
  };
  /** A gauge read from the source at each scrape. */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], read: Read<Iterable<[Partial<Record<L, string>>, number]>>): void => {
    new Gauge<L>({
      name, help, labelNames, registers,
      collect() {
        this.reset();
        const s = source();
        if (s !== undefined) for (const [labels, v] of read(s)) this.set(labels, v);
      },
    });
  };
  const prefixed = (counters: Readonly<Record<string, number>>, prefix: string): [string, number][] =>
    Object.entries(counters).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]);

  counter('chorus_messages_total', 'Mesh protocol messages sent (out) and received and validated (in), by message type.', ['direction', 'type'], (s) => {
    const c = s.engineCounters();
    return [
      ...prefixed(c, 'received:').map(([type, v]): [{ direction: string; type: string }, number] => [{ direction: 'in', type }, v]),
      ...prefixed(c, 'sent:').map(([type, v]): [{ direction: string; type: string }, number] => [{ direction: 'out', type }, v]),
    ];
  });
  const bytesIn = new MonotonicSum();
  const bytesOut = new MonotonicSum();
  counter('chorus_bytes_total', 'Mesh frame bytes received (in) and sent (out) over WebSocket links, after sealing.', ['direction'], (s) => {
    const links = Object.entries(s.links());
    return [
      [{ direction: 'in' }, bytesIn.observe(Object.fromEntries(links.map(([a, l]) => [a, l.bytesIn])))],
      [{ direction: 'out' }, bytesOut.observe(Object.fromEntries(links.map(([a, l]) => [a, l.bytesOut])))],
    ];
  });
  counter('chorus_frames_rejected_total', 'Inbound frames the codec refused (mesh links and discovery), by reason.', ['reason'], (s) => Object.entries(s.framesRejected()).map(([reason, v]) => [{ reason }, v]));
  counter('chorus_messages_dropped_total', 'Inbound messages the sync engine dropped (failed validation, unknown sender...), by reason.', ['reason'], (s) => prefixed(s.engineCounters(), 'dropped:').map(([reason, v]) => [{ reason }, v]));
  gauge('chorus_members', 'Members this node knows, itself included, by status.', ['status'], (s) => {
    const statuses = s.memberStatuses();
    return MEMBER_STATUSES.map((status) => [{ status }, statuses.filter((x) => x === status).length]);
  });
  gauge('chorus_replication_lag_records', "Records of this node's writes that a peer's last known digest lacks, by peer node id.", ['peer'], (s) =>
    s.replicationLag().flatMap((p) => (p.records === null ? [] : [[{ peer: p.peer }, p.records] as [{ peer: string }, number]])),
  );
  counter('chorus_writes_total', 'Local writes committed through this node, by kind.', ['kind'], (s) => Object.entries(s.writes()).map(([kind, v]) => [{ kind }, v]));
  counter('chorus_merged_records_total', 'Records received from peers and applied to the local store.', [], (s) => [[{}, s.engineCounters()['recordsApplied'] ?? 0]]);
  gauge('chorus_event_stream_clients', 'WebSocket clients connected to /api/v1/events.', [], (s) => [[{}, s.eventClients()]]);
  gauge('chorus_store_objects', 'Objects held (not deleted).', [], (s) => [[{}, s.store().objects]]);
  gauge('chorus_store_live_fields', 'Fields held with a value (not deleted).', [], (s) => [[{}, s.store().liveFields]]);
  gauge('chorus_store_tombstones', 'Deletion markers held: each is collected once older than the tombstone TTL (7 days) and held by every live member.', [], (s) => [[{}, s.store().tombstones]]);
  counter('chorus_tombstones_collected_total', 'Deletion markers collected (forgotten) by this node.', [], (s) => [[{}, s.engineCounters()['tombstonesCollected'] ?? 0]]);
  counter('chorus_stale_detections_total', 'Times a peer had collected deletions this node never saw, so this node verified its records against that peer by snapshot.', [], (s) => [[{}, s.engineCounters()['staleDetected'] ?? 0]]);
  counter('chorus_records_dropped_total', 'Records dropped rather than applied or kept, by reason: stale (older than a deletion the mesh already collected; the write is lost, visibly), superseded (lost at the peer it was verified against), seq-conflict (another record holds its origin and seq).', ['reason'], (s) => {
    const c = s.engineCounters();
    return [[{ reason: 'stale' }, c['staleRecordsDropped'] ?? 0], [{ reason: 'superseded' }, c['supersededRecordsDropped'] ?? 0], [{ reason: 'seq-conflict' }, c['seqConflicts'] ?? 0]];
  });
  counter('chorus_own_writes_renumbered_total', 'Own writes moved to new sequence numbers because peers held writes of this node beyond its storage (a restored backup or rollback).', [], (s) => [[{}, s.engineCounters()['ownWritesRenumbered'] ?? 0]]);
  gauge('chorus_store_encoded_bytes', 'Encoded size of every record held.', [], (s) => [[{}, s.store().encodedBytes]]);
  counter('chorus_storage_commits_total', 'Storage transactions committed (group commits: one may hold many writes).', [], (s) => [[{}, s.commits().commits]]);
  counter('chorus_storage_commit_failures_total', 'Storage transactions that failed.', [], (s) => [[{}, s.commits().failedCommits]]);

  const latency = new Histogram<'method' | 'route' | 'status'>({
    name: 'chorus_http_request_duration_seconds',
    help: 'HTTP request latency from arrival to response sent, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers,
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would make unbounded label sets.
    latency.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { scope: 'read' } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
  return { registry };
}
