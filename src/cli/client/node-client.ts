import type { Json } from '../../core/json.ts';
import type { MemberRecord } from '../../membership/member.ts';
import type { NodeInfo, PeerReplicationView } from '../../api/node-api.ts';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.ts';
import type { Target } from './target.ts';

/** An object as the API returns it. */
export interface ObjectView {
  readonly id: string;
  readonly fields: Record<string, Json>;
}

/** Write concern passed through to the node (`?replicas=N|all&timeoutMs=T`). */
export interface WriteConcern {
  readonly replicas?: number | 'all';
  readonly timeoutMs?: number;
}

/** Options of one request. */
interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /** Set for object routes: a 404 there means the object is missing (exit 3). */
  readonly missing?: string;
  readonly timeoutMs?: number;
}

/** How long a request may take before the node counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Objects per page when `ls` walks the list (the API's maximum). */
export const PAGE_SIZE = 1000;

/** The error message in the API's shape `{ error: { code, message } }`, else the status line. */
function errorMessage(status: number, statusText: string, body: unknown): string {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (e !== undefined && typeof e.message === 'string') return typeof e.code === 'string' ? `${e.message} (${e.code})` : e.message;
  return `HTTP ${status} ${statusText}`.trim();
}

/** Why fetch failed, from its cause (ECONNREFUSED, ENOTFOUND, a timeout...). */
function networkReason(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** A client of one node's REST API (`/api/v1`). Failures are CliErrors carrying their exit code. */
export class NodeClient {
  constructor(
    readonly target: Target,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Sends one request and parses the JSON answer; maps every failure to an exit code. */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const url = new URL(`${this.target.url}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token !== undefined) headers.authorization = `Bearer ${this.target.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
        signal: AbortSignal.timeout(o.timeoutMs ?? REQUEST_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (e) {
      const hint = this.target.from === '--url' ? '' : ` (from ${this.target.from}; is the node running?)`;
      throw new CliError(ExitCode.Unreachable, `cannot reach the node at ${this.target.url}${hint}: ${networkReason(e)}`);
    }
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new CliError(ExitCode.Failure, `${method} ${url.pathname}: the answer is not JSON: is ${this.target.url} a Chorus node?`);
    }
    if (res.ok) return body as T;
    if (res.status === 404 && o.missing !== undefined) throw new CliError(ExitCode.NotFound, `${o.missing} not found`);
    throw new CliError(exitCodeForStatus(res.status), `${method} ${url.pathname}: ${errorMessage(res.status, res.statusText, body)}`);
  }

  /** GET /api/v1/node. */
  node(): Promise<NodeInfo> {
    return this.request('GET', '/api/v1/node');
  }

  /** GET /api/v1/replication; null from a node that does not serve it. */
  async replication(): Promise<readonly PeerReplicationView[] | null> {
    try {
      const body = await this.request<unknown>('GET', '/api/v1/replication', { missing: 'replication' });
      if (Array.isArray(body)) return body as PeerReplicationView[];
      const peers = (body as { peers?: unknown } | null)?.peers;
      return Array.isArray(peers) ? (peers as PeerReplicationView[]) : null;
    } catch (e) {
      if (e instanceof CliError && e.exitCode === ExitCode.NotFound) return null;
      throw e;
    }
  }

  /** GET /api/v1/members. */
  async members(): Promise<readonly MemberRecord[]> {
    return (await this.request<{ members: MemberRecord[] }>('GET', '/api/v1/members')).members;
  }

  /** GET /api/v1/objects/:id; a missing object is a CliError with exit code 3. */
  getObject(id: string): Promise<ObjectView> {
    return this.request('GET', objectPath(id), { missing: `object "${id}"` });
  }

  /** PATCH (merge `fields` into the object) or, with `replace`, PUT (the object becomes `fields`). */
  writeObject(id: string, fields: Record<string, Json>, replace: boolean, concern: WriteConcern = {}): Promise<ObjectView> {
    return replace
      ? this.request('PUT', objectPath(id), { body: { fields }, ...writeOptions(concern) })
      : this.request('PATCH', objectPath(id), { body: fields, ...writeOptions(concern) });
  }

  /** DELETE /api/v1/objects/:id; a missing object is a CliError with exit code 3. */
  deleteObject(id: string, concern: WriteConcern = {}): Promise<{ id: string; deleted: boolean }> {
    return this.request('DELETE', objectPath(id), { missing: `object "${id}"`, ...writeOptions(concern) });
  }

  /** Every object whose id starts with `prefix`, following `next` page by page (at most `limit`). */
  async listAll(prefix: string, limit = Infinity): Promise<ObjectView[]> {
    const objects: ObjectView[] = [];
    let after: string | undefined;
    while (objects.length < limit) {
      const page = await this.request<{ objects: ObjectView[]; next: string | null }>('GET', '/api/v1/objects', {
        query: { prefix, after, limit: Math.min(PAGE_SIZE, limit - objects.length) },
      });
      objects.push(...page.objects);
      if (page.next === null || page.next === undefined || page.objects.length === 0) break;
      if (page.next === after) throw new CliError(ExitCode.Failure, `the node's paging does not advance (next "${page.next}" again)`);
      after = page.next;
    }
    return objects;
  }
}

function objectPath(id: string): string {
  return `/api/v1/objects/${encodeURIComponent(id)}`;
}

/** Query and timeout of a write: the request may wait for the write concern, plus a margin. */
function writeOptions(c: WriteConcern): Pick<RequestOptions, 'query' | 'timeoutMs'> {
  return {
    query: { replicas: c.replicas, timeoutMs: c.timeoutMs },
    timeoutMs: REQUEST_TIMEOUT_MS + (c.timeoutMs ?? 0),
  };
}
