import { describe, expect, it } from 'vitest';
import { PEER_B, PEER_C, SELF } from './fake-node.ts';
import { call, errorOf, makeApp } from './helpers.ts';

describe('objects', () => {
  it('PUT creates and replaces, PATCH merges, GET reads, DELETE removes', async () => {
    const { app } = await makeApp();
    let r = await call(app, 'PUT', '/api/v1/objects/kitchen-light', { fields: { on: true, level: 80 } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'kitchen-light', fields: { on: true, level: 80 } });

    r = await call(app, 'PATCH', '/api/v1/objects/kitchen-light', { level: 40, location: { x: 1, y: 2 } });
    expect(r.json()).toEqual({ id: 'kitchen-light', fields: { on: true, level: 40, location: { x: 1, y: 2 } } });

    r = await call(app, 'PUT', '/api/v1/objects/kitchen-light', { fields: { on: false } });
    expect(r.json()).toEqual({ id: 'kitchen-light', fields: { on: false } });

    r = await call(app, 'GET', '/api/v1/objects/kitchen-light');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'kitchen-light', fields: { on: false } });

    r = await call(app, 'DELETE', '/api/v1/objects/kitchen-light');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'kitchen-light', deleted: true });
    expect((await call(app, 'GET', '/api/v1/objects/kitchen-light')).statusCode).toBe(404);
  });

  it('DELETE of a field removes only that field; a missing object or field is 404', async () => {
    const { app } = await makeApp();
    await call(app, 'PUT', '/api/v1/objects/lamp', { fields: { on: true, level: 3 } });
    const r = await call(app, 'DELETE', '/api/v1/objects/lamp/fields/level');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'lamp', fields: { on: true } });
    const noField = await call(app, 'DELETE', '/api/v1/objects/lamp/fields/level');
    expect(noField.statusCode).toBe(404);
    expect(errorOf(noField)).toEqual({ code: 'CHORUS_NOT_FOUND', message: 'object "lamp" has no field "level"' });
    expect(errorOf(await call(app, 'DELETE', '/api/v1/objects/ghost/fields/x')).code).toBe('CHORUS_NOT_FOUND');
    expect((await call(app, 'DELETE', '/api/v1/objects/ghost')).statusCode).toBe(404);
  });

  it('ids with slashes and non-ASCII characters travel URL-encoded', async () => {
    const { app } = await makeApp();
    const id = 'floor/1/salón';
    expect((await call(app, 'PUT', `/api/v1/objects/${encodeURIComponent(id)}`, { fields: { t: 21 } })).statusCode).toBe(200);
    expect((await call(app, 'GET', `/api/v1/objects/${encodeURIComponent(id)}`)).json()).toEqual({ id, fields: { t: 21 } });
  });

  it('lists by prefix with cursor paging until next is null', async () => {
    const { app, node } = await makeApp();
    for (let i = 0; i < 7; i++) node.store.put(`sensor-${i}`, { t: i });
    node.store.put('light-1', { on: true });
    const seen: string[] = [];
    let after: string | null = '';
    let pages = 0;
    while (after !== null) {
      const r = await call(app, 'GET', `/api/v1/objects?prefix=sensor-&limit=3${after === '' ? '' : `&after=${encodeURIComponent(after)}`}`);
      expect(r.statusCode).toBe(200);
      const page = r.json() as { objects: { id: string; fields: unknown }[]; next: string | null };
      expect(page.objects.length).toBeLessThanOrEqual(3);
      seen.push(...page.objects.map((o) => o.id));
      after = page.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `sensor-${i}`));
    const all = (await call(app, 'GET', '/api/v1/objects')).json() as { objects: unknown[]; next: null };
    expect(all.objects).toHaveLength(8);
    expect(all.next).toBeNull();
  });

  it('?ifAbsent=true creates once, then answers 409 and leaves the object alone', async () => {
    const { app } = await makeApp();
    expect((await call(app, 'PUT', '/api/v1/objects/door?ifAbsent=true', { fields: { open: false } })).statusCode).toBe(200);
    const put = await call(app, 'PUT', '/api/v1/objects/door?ifAbsent=true', { fields: { open: true } });
    expect(put.statusCode).toBe(409);
    expect(errorOf(put)).toEqual({ code: 'CHORUS_CONFLICT', message: 'object "door" already exists (ifAbsent=true)' });
    const patch = await call(app, 'PATCH', '/api/v1/objects/door?ifAbsent=true', { open: true });
    expect(patch.statusCode).toBe(409);
    expect((await call(app, 'GET', '/api/v1/objects/door')).json()).toEqual({ id: 'door', fields: { open: false } });
    expect((await call(app, 'PATCH', '/api/v1/objects/window?ifAbsent=true', { open: true })).statusCode).toBe(200);
    expect((await call(app, 'PATCH', '/api/v1/objects/door?ifAbsent=false', { open: true })).statusCode).toBe(200);
  });
});

describe('write concern', () => {
  it('waits for the highest seq of the write, and answers which peers confirmed', async () => {
    const { app, node } = await makeApp();
    node.confirming = [PEER_B, PEER_C];
    const r = await call(app, 'PATCH', '/api/v1/objects/fan?replicas=2&timeoutMs=2500', { on: true, speed: 3 });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'fan', fields: { on: true, speed: 3 }, replicas: { confirmed: [PEER_B, PEER_C], required: 2 } });
    // Two fields, two records: the wait covers the later one.
    expect(node.awaitCalls).toEqual([{ seq: node.store.digest()[SELF], replicas: 2, timeoutMs: 2500 }]);
  });

  it('defaults timeoutMs to 5000 and takes "all"', async () => {
    const { app, node } = await makeApp();
    const r = await call(app, 'PUT', '/api/v1/objects/fan?replicas=all', { fields: { on: true } });
    expect(r.statusCode).toBe(200);
    expect(r.json().replicas).toEqual({ confirmed: [PEER_B], required: 1 });
    expect(node.awaitCalls).toEqual([{ seq: node.store.digest()[SELF], replicas: 'all', timeoutMs: 5000 }]);
  });

  it('applies to DELETE of an object and of a field', async () => {
    const { app, node } = await makeApp();
    node.store.put('fan', { on: true, speed: 2 });
    const before = node.store.digest()[SELF] ?? 0;
    const f = await call(app, 'DELETE', '/api/v1/objects/fan/fields/speed?replicas=1');
    expect(f.json()).toEqual({ id: 'fan', fields: { on: true }, replicas: { confirmed: [PEER_B], required: 1 } });
    const d = await call(app, 'DELETE', '/api/v1/objects/fan?replicas=1&timeoutMs=10');
    expect(d.json()).toEqual({ id: 'fan', deleted: true, replicas: { confirmed: [PEER_B], required: 1 } });
    // Each delete is one record with the next seq, and each wait covers it.
    expect(node.awaitCalls.map((c) => c.seq)).toEqual([before + 1, before + 2]);
  });

  it('a timeout is 504 naming how many of how many confirmed; the local write stands', async () => {
    const { app, node } = await makeApp();
    node.confirming = [PEER_B];
    const r = await call(app, 'PATCH', '/api/v1/objects/fan?replicas=3&timeoutMs=100', { on: true });
    expect(r.statusCode).toBe(504);
    const e = errorOf(r);
    expect(e.code).toBe('CHORUS_WRITE_CONCERN_TIMEOUT');
    expect(e.message).toMatch(/committed on this node, but only 1 of 3 required replicas confirmed it within 100 ms/);
    expect(e['confirmed']).toEqual([PEER_B]);
    expect(e['required']).toBe(3);
    expect((await call(app, 'GET', '/api/v1/objects/fan')).json()).toEqual({ id: 'fan', fields: { on: true } });
  });

  it('without ?replicas a write does not wait', async () => {
    const { app, node } = await makeApp();
    await call(app, 'PATCH', '/api/v1/objects/fan?timeoutMs=100', { on: true });
    expect(node.awaitCalls).toEqual([]);
  });
});
