import { describe, expect, it } from 'vitest';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { FrameCodec, REJECT_REASONS, type OpenResult, type RejectReason } from '../../src/transport/frame.ts';
import { afterLabel, rawFrame, ringOf, u32 } from './frames.ts';

const payload = Buffer.from('{"hello":"mesh"}');

/** A sealed frame with one byte changed. */
function flipped(frame: Uint8Array, at: number): Uint8Array {
  const out = Uint8Array.from(frame);
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

interface Case {
  readonly name: string;
  readonly reason: RejectReason;
  /** Opens something and returns the result. */
  readonly run: () => OpenResult;
}

const keyed = () => new FrameCodec({ mesh: 'home', keyring: ringOf(1, 2), maxFrameBytes: 1024 });
const insecure = () => new FrameCodec({ mesh: 'home', keyring: null, maxFrameBytes: 1024 });

const CASES: readonly Case[] = [
  { name: 'a string instead of bytes', reason: 'not-bytes', run: () => keyed().open('CH' as unknown as Uint8Array) },
  { name: 'four bytes', reason: 'too-short', run: () => keyed().open(Uint8Array.of(0x43, 0x48, 1, 1)) },
  { name: 'a frame over maxFrameBytes', reason: 'too-large', run: () => keyed().open(new Uint8Array(1025)) },
  { name: 'an insecure frame declaring 4 GiB', reason: 'too-large', run: () => insecure().open(rawFrame({ rest: Uint8Array.from([...u32(0xffffffff), 1, 2, 3]) })) },
  { name: 'an insecure frame declaring maxFrameBytes + 1', reason: 'too-large', run: () => insecure().open(rawFrame({ rest: Uint8Array.from(u32(1025)) })) },
  { name: 'wrong magic', reason: 'bad-magic', run: () => keyed().open(rawFrame({ magic: [0x43, 0x49], rest: new Uint8Array(40) })) },
  { name: 'version 2', reason: 'bad-version', run: () => keyed().open(rawFrame({ version: 2, rest: new Uint8Array(40) })) },
  { name: 'a reserved flag bit', reason: 'bad-flags', run: () => keyed().open(rawFrame({ flags: 0x03, rest: new Uint8Array(40) })) },
  { name: 'a 65-byte label', reason: 'label-too-long', run: () => keyed().open(rawFrame({ label: 'x'.repeat(65), flags: 1, rest: new Uint8Array(40) })) },
  { name: 'a label running past the end', reason: 'truncated', run: () => keyed().open(rawFrame({ labelLength: 30 })) },
  { name: 'an insecure frame without its length', reason: 'truncated', run: () => insecure().open(rawFrame({ rest: Uint8Array.of(0, 0) })) },
  { name: 'an insecure payload shorter than declared', reason: 'truncated', run: () => insecure().open(rawFrame({ rest: Uint8Array.from([...u32(10), 1, 2, 3]) })) },
  { name: 'an encrypted frame shorter than its tag', reason: 'truncated', run: () => keyed().open(keyed().seal(payload).subarray(0, afterLabel('home') + 16 + 15)) },
  { name: 'an insecure payload longer than declared', reason: 'trailing-bytes', run: () => insecure().open(rawFrame({ rest: Uint8Array.from([...u32(1), 1, 2]) })) },
  { name: 'a frame of another mesh', reason: 'wrong-mesh', run: () => keyed().open(new FrameCodec({ mesh: 'away', keyring: ringOf(1) }).seal(payload)) },
  { name: 'a plaintext frame at a keyed node', reason: 'plaintext-refused', run: () => keyed().open(insecure().seal(payload)) },
  { name: 'an encrypted frame at an insecure node', reason: 'encrypted-refused', run: () => insecure().open(keyed().seal(payload)) },
  { name: 'a key that is not installed', reason: 'unknown-key', run: () => keyed().open(new FrameCodec({ mesh: 'home', keyring: ringOf(3) }).seal(payload)) },
  {
    name: 'the same frame twice',
    reason: 'replay',
    run: () => {
      const c = keyed();
      const f = keyed().seal(payload);
      expect(c.open(f).ok).toBe(true);
      return c.open(f);
    },
  },
  { name: 'a flipped ciphertext byte', reason: 'auth-failed', run: () => keyed().open(flipped(keyed().seal(payload), afterLabel('home') + 16 + 2)) },
  { name: 'a flipped tag byte', reason: 'auth-failed', run: () => keyed().open(flipped(keyed().seal(payload), afterLabel('home') + 16 + payload.length + 3)) },
  { name: 'a flipped nonce byte', reason: 'auth-failed', run: () => keyed().open(flipped(keyed().seal(payload), afterLabel('home') + 4 + 11)) },
];

describe('frame: every refusal, by reason', () => {
  it('covers every reason in REJECT_REASONS', () => {
    expect(new Set(CASES.map((c) => c.reason))).toEqual(new Set(REJECT_REASONS));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(c.run()).toEqual({ ok: false, reason: c.reason });
  });

  it('counts each refusal under its reason, and the counts add up', () => {
    const c = keyed();
    const foreign = new FrameCodec({ mesh: 'home', keyring: ringOf(9) });
    const results = [c.open(new Uint8Array(2)), c.open(new Uint8Array(2)), c.open(insecure().seal(payload)), c.open(foreign.seal(payload)), c.open(keyed().seal(payload))];
    const { rejected, opened } = c.counters();
    expect(rejected['too-short']).toBe(2);
    expect(rejected['plaintext-refused']).toBe(1);
    expect(rejected['unknown-key']).toBe(1);
    expect(opened).toBe(1);
    expect(Object.values(rejected).reduce((a, b) => a + b, 0)).toBe(results.filter((r) => !r.ok).length);
  });
});

describe('frame: authenticated header', () => {
  it('authenticates the mesh label: relabelled for another mesh with the same key, it fails', () => {
    const home = new FrameCodec({ mesh: 'home', keyring: ringOf(1) });
    const barn = new FrameCodec({ mesh: 'barn', keyring: ringOf(1) });
    const relabelled = Buffer.from(home.seal(payload));
    relabelled.write('barn', 5, 'utf8');
    expect(barn.open(relabelled)).toEqual({ ok: false, reason: 'auth-failed' });
  });

  it('authenticates the key id: pointed at another installed key, it fails', () => {
    const ring = ringOf(1, 2);
    const frame = Buffer.from(new FrameCodec({ mesh: 'home', keyring: ring }).seal(payload));
    const otherId = ring.list().find((k) => !k.primary)?.id as string;
    Buffer.from(otherId, 'hex').copy(frame, afterLabel('home'));
    expect(new FrameCodec({ mesh: 'home', keyring: ringOf(1, 2) }).open(frame)).toEqual({ ok: false, reason: 'auth-failed' });
  });
});

describe('frame: round trip', () => {
  const sizes = [0, 1, 200, 1000];
  it.each(sizes)('keyed, %i-byte payload', (n) => {
    const sender = new FrameCodec({ mesh: 'home', keyring: ringOf(1), maxFrameBytes: 2048 });
    const receiver = new FrameCodec({ mesh: 'home', keyring: ringOf(1), maxFrameBytes: 2048 });
    const p = Buffer.alloc(n, 0xab);
    const frame = sender.seal(p);
    expect(frame.length).toBe(afterLabel('home') + 4 + 12 + n + 16);
    const r = receiver.open(frame);
    expect(r.ok && Buffer.from(r.payload).equals(p)).toBe(true);
  });

  it.each(sizes)('insecure, %i-byte payload', (n) => {
    const c = new FrameCodec({ mesh: 'home', keyring: null, maxFrameBytes: 2048 });
    const p = Buffer.alloc(n, 0xcd);
    const frame = c.seal(p);
    expect(frame.length).toBe(afterLabel('home') + 4 + n);
    const r = c.open(frame);
    expect(r).toEqual({ ok: true, payload: p, session: '' });
  });

  it('seals exactly maxPayloadBytes into maxFrameBytes, and refuses one byte more', () => {
    for (const keyring of [ringOf(1), null]) {
      const c = new FrameCodec({ mesh: 'home', keyring, maxFrameBytes: 1024 });
      expect(c.seal(new Uint8Array(c.maxPayloadBytes)).length).toBe(1024);
      let caught: unknown;
      try {
        c.seal(new Uint8Array(c.maxPayloadBytes + 1));
      } catch (e) {
        caught = e;
      }
      expect(isChorusError(caught, ErrorCode.FrameTooLarge)).toBe(true);
    }
  });

  it('reports each sealer as its own session; frames of different sealers never share a nonce', () => {
    const sender = new FrameCodec({ mesh: 'home', keyring: ringOf(1) });
    const receiver = new FrameCodec({ mesh: 'home', keyring: ringOf(1) });
    const a = sender.sealer();
    const b = sender.sealer();
    expect(a.session).not.toBe(b.session);
    const ra = receiver.open(a.seal(payload));
    const rb = receiver.open(b.seal(payload));
    expect(ra.ok && ra.session).toBe(a.session);
    expect(rb.ok && rb.session).toBe(b.session);
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) for (const s of [a, b, sender]) nonces.add(Buffer.from(s.seal(payload).subarray(afterLabel('home') + 4, afterLabel('home') + 16)).toString('hex'));
    expect(nonces.size).toBe(3000);
  });

  it('opens frames of every installed key; a removed key is unknown', () => {
    const ring = ringOf(1, 2);
    const receiver = new FrameCodec({ mesh: 'home', keyring: ring });
    const old = new FrameCodec({ mesh: 'home', keyring: ringOf(1) });
    const next = new FrameCodec({ mesh: 'home', keyring: ringOf(2) });
    expect(receiver.open(old.seal(payload)).ok).toBe(true);
    expect(receiver.open(next.seal(payload)).ok).toBe(true);
    const [first, second] = ring.list();
    ring.use(second?.id as string);
    ring.remove(first?.id as string);
    expect(receiver.open(old.seal(payload))).toEqual({ ok: false, reason: 'unknown-key' });
    expect(receiver.open(next.seal(payload)).ok).toBe(true);
  });

  it('refuses bad options', () => {
    for (const o of [{ mesh: '' }, { mesh: 'x'.repeat(65) }, { mesh: 'home', maxFrameBytes: 10 }, { mesh: 'home', maxSessions: 0 }]) {
      let caught: unknown;
      try {
        new FrameCodec({ keyring: null, ...o });
      } catch (e) {
        caught = e;
      }
      expect(isChorusError(caught, ErrorCode.InvalidConfig)).toBe(true);
    }
  });
});
