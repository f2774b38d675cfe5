import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { writeFileAtomic } from '../storage/atomic-file.ts';

/** Access scopes, weakest first: each one implies those before it (admin ⊃ write ⊃ read). */
export const SCOPES = ['read', 'write', 'admin'] as const;

/** One access scope. */
export type Scope = (typeof SCOPES)[number];

/** What a token file says about one token; never the secret. */
export interface TokenRecord {
  /** 8 lowercase hex characters, public: it names the token in lists and logs. */
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601; a revoked token is refused but kept so lists show what happened. */
  readonly revokedAt?: string;
}

/** A token as stored: its record and the SHA-256 of its secret (hex). */
export interface StoredToken extends TokenRecord {
  readonly hash: string;
}

/** How a presented token fared. */
export type TokenCheck = { readonly ok: true; readonly token: TokenRecord } | { readonly ok: false; readonly reason: 'malformed' | 'invalid' };

/** What the auth hook needs from a token store. */
export interface TokenVerifier {
  /** Checks a presented token: malformed, unknown, wrong secret and revoked all fail. */
  verify(presented: string): TokenCheck;
}

/** The file name of the token store inside a data directory. */
export const TOKEN_FILE = 'tokens.json';

const FILE_VERSION = 1;
const ID = /^[0-9a-f]{8}$/;
const HASH = /^[0-9a-f]{64}$/;
const SECRET_BYTES = 32;
/** `chorus_<id>_<secret>`: the secret is 32 bytes of base64url (43 characters, which may hold '_'). */
const TOKEN = /^chorus_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;
const MAX_NAME = 128;
/** Compared against when the id is unknown, so a miss costs what a hit does. */
const DUMMY_HASH = Buffer.alloc(32);

/** True for one of SCOPES. */
export function isScope(v: unknown): v is Scope {
  return typeof v === 'string' && (SCOPES as readonly string[]).includes(v);
}

/** Whether holding `held` allows what needs `needed`: a scope implies every weaker one. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  const rank = SCOPES.indexOf(needed);
  return held.some((s) => SCOPES.indexOf(s) >= rank);
}

/** The strongest scope of a set, for messages. */
export function strongest(held: readonly Scope[]): Scope | undefined {
  return [...SCOPES].reverse().find((s) => held.includes(s));
}

/** Splits `chorus_<id>_<secret>`, or undefined when the text has another shape. */
export function parseToken(text: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(text);
  return m === null ? undefined : { id: m[1] as string, secret: m[2] as string };
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Checks a token name: 1 to 128 printable characters, as a person would label a token. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME) return `must be 1 to ${MAX_NAME} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters';
  return undefined;
}

function invalid(path: string, problem: string): ChorusError {
  return new ChorusError(ErrorCode.TokenFileInvalid, `token file ${path} ${problem}; fix the file, or remove it to start over without tokens`);
}

function checkEntry(path: string, e: unknown, i: number): StoredToken {
  const where = `entry ${i}`;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(path, `${where} is not an object`);
  const t = e as Record<string, unknown>;
  if (typeof t.id !== 'string' || !ID.test(t.id)) throw invalid(path, `${where} has no valid id (8 lowercase hex characters)`);
  if (typeof t.name !== 'string' || nameProblem(t.name) !== undefined) throw invalid(path, `token ${t.id} has no valid name`);
  if (!Array.isArray(t.scopes) || t.scopes.length === 0 || !t.scopes.every(isScope)) throw invalid(path, `token ${t.id} scopes must be a non-empty list of ${SCOPES.join(', ')}`);
  if (typeof t.createdAt !== 'string') throw invalid(path, `token ${t.id} has no createdAt`);
  if (t.revokedAt !== undefined && typeof t.revokedAt !== 'string') throw invalid(path, `token ${t.id} revokedAt must be a string`);
  if (typeof t.hash !== 'string' || !HASH.test(t.hash)) throw invalid(path, `token ${t.id} has no valid hash (64 lowercase hex characters)`);
  return { id: t.id, name: t.name, scopes: [...t.scopes], createdAt: t.createdAt, ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt }), hash: t.hash };
}

/** Parses and checks the text of a token file. Throws CHORUS_TOKEN_FILE_INVALID naming the problem. */
export function parseTokenFile(text: string, path: string): StoredToken[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid(path, 'is not valid JSON');
  }
  const d = doc as { version?: unknown; tokens?: unknown } | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw invalid(path, 'must hold an object { version, tokens }');
  if (d.version !== FILE_VERSION) throw invalid(path, `has version ${JSON.stringify(d.version)}; this build reads version ${FILE_VERSION}`);
  if (!Array.isArray(d.tokens)) throw invalid(path, 'has no tokens list');
  const out = d.tokens.map((e, i) => checkEntry(path, e, i));
  const ids = new Set<string>();
  for (const t of out) {
    if (ids.has(t.id)) throw invalid(path, `holds token ${t.id} twice`);
    ids.add(t.id);
  }
  return out;
}

/** Reads a token file; a missing file holds no tokens. */
export function readTokenFile(path: string): StoredToken[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ChorusError(ErrorCode.TokenFileInvalid, `token file ${path} cannot be read: ${(e as Error).message}`);
  }
  return parseTokenFile(text, path);
}

/** Replaces the token file atomically, readable by its owner only (0600). */
export function writeTokenFile(path: string, tokens: readonly StoredToken[]): void {
  writeFileAtomic(path, `${JSON.stringify({ version: FILE_VERSION, tokens }, null, 2)}\n`, 0o600);
}

/** The record of a stored token, without its hash. */
export function publicRecord(t: StoredToken): TokenRecord {
  const { hash: _hash, ...record } = t;
  return record;
}

/** Sources of a new token's randomness and time (tests pass fixed ones). */
export interface TokenMint {
  readonly now: Date;
  readonly random: (bytes: number) => Buffer;
}

const SYSTEM_MINT = (): TokenMint => ({ now: new Date(), random: randomBytes });

/**
 * Adds a token to the file and returns it: the only time its secret exists outside the
 * holder's hands. Throws CHORUS_INVALID_TOKEN_REQUEST for a bad name or scope.
 */
export function createToken(path: string, request: { name: string; scopes: readonly string[] }, mint: TokenMint = SYSTEM_MINT()): { token: string; record: TokenRecord } {
  const problem = nameProblem(request.name);
  if (problem !== undefined) throw new ChorusError(ErrorCode.InvalidTokenRequest, `token name ${problem}`);
  const bad = request.scopes.find((s) => !isScope(s));
  if (bad !== undefined || request.scopes.length === 0) throw new ChorusError(ErrorCode.InvalidTokenRequest, `scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(bad ?? '')}`);
  const tokens = readTokenFile(path);
  const taken = new Set(tokens.map((t) => t.id));
  let id = mint.random(4).toString('hex');
  while (taken.has(id)) id = mint.random(4).toString('hex');
  const secret = mint.random(SECRET_BYTES).toString('base64url');
  const stored: StoredToken = { id, name: request.name, scopes: [...new Set(request.scopes as Scope[])], createdAt: mint.now.toISOString(), hash: hashSecret(secret).toString('hex') };
  writeTokenFile(path, [...tokens, stored]);
  return { token: `chorus_${id}_${secret}`, record: publicRecord(stored) };
}

/** Marks a token revoked (idempotent: `already` says it was). Throws CHORUS_TOKEN_NOT_FOUND for an unknown id. */
export function revokeToken(path: string, id: string, now: Date = new Date()): { record: TokenRecord; already: boolean } {
  const wanted = id.trim().toLowerCase();
  if (!ID.test(wanted)) throw new ChorusError(ErrorCode.InvalidTokenRequest, `token id must be 8 hex characters (see \`chorus token list\`), got ${JSON.stringify(id)}`);
  const tokens = readTokenFile(path);
  const found = tokens.find((t) => t.id === wanted);
  if (found === undefined) throw new ChorusError(ErrorCode.TokenNotFound, `no token ${wanted} in ${path}`);
  if (found.revokedAt !== undefined) return { record: publicRecord(found), already: true };
  const revoked: StoredToken = { ...found, revokedAt: now.toISOString() };
  writeTokenFile(path, tokens.map((t) => (t === found ? revoked : t)));
  return { record: publicRecord(revoked), already: false };
}

/** Every token's record (revoked ones included), never a secret or hash. */
export function listTokens(path: string): TokenRecord[] {
  return readTokenFile(path).map(publicRecord);
}

/**
 * The running node's view of the token file. Each check stats the file (one syscall) and
 * re-reads it when its inode, size or times changed, so `chorus token create|revoke` in
 * another process takes effect on the next request. A file that turns unreadable or invalid
 * while the node runs fails closed: no token passes until it is fixed (`onError` says why).
 */
export class TokenStore implements TokenVerifier {
  private byId = new Map<string, StoredToken>();
  private signature = '';

  private constructor(
    /** The token file's path. */
    readonly path: string,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Loads the file now; throws CHORUS_TOKEN_FILE_INVALID when it is damaged, so a node does not start on it. */
  static open(path: string, onError: (e: Error) => void = () => undefined): TokenStore {
    const store = new TokenStore(path, onError);
    store.refresh(true);
    return store;
  }

  /** Checks a presented token against the current file. */
  verify(presented: string): TokenCheck {
    const parsed = parseToken(presented);
    if (parsed === undefined) return { ok: false, reason: 'malformed' };
    this.refresh(false);
    const stored = this.byId.get(parsed.id);
    const expected = stored === undefined ? DUMMY_HASH : Buffer.from(stored.hash, 'hex');
    const equal = timingSafeEqual(hashSecret(parsed.secret), expected);
    if (stored === undefined || !equal || stored.revokedAt !== undefined) return { ok: false, reason: 'invalid' };
    return { ok: true, token: publicRecord(stored) };
  }

  /** Tokens currently accepted (not revoked). */
  activeCount(): number {
    this.refresh(false);
    let n = 0;
    for (const t of this.byId.values()) if (t.revokedAt === undefined) n++;
    return n;
  }

  private refresh(strict: boolean): void {
    let signature: string;
    try {
      const st = statSync(this.path);
      signature = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      signature = code === 'ENOENT' ? 'absent' : `unreadable:${code}`;
    }
    if (signature === this.signature) return;
    // A damaged version is reported once and re-read only when the file changes again.
    this.signature = signature;
    try {
      this.byId = new Map(readTokenFile(this.path).map((t) => [t.id, t]));
    } catch (e) {
      if (strict) throw e;
      this.byId = new Map();
      this.onError(e as Error);
    }
  }
}
