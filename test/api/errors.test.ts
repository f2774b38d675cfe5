import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ChorusError, ErrorCode } from '../../src/core/errors.ts';
import { call, errorOf, makeApp } from './helpers.ts';

type Case = readonly [what: string, method: NonNullable<InjectOptions['method']>, url: string, body: unknown, code: string, message: RegExp];

const id300 = 'x'.repeat(300);
let deep: unknown = 1;
for (let i = 0; i < 40; i++) deep = { d: deep };

/** Every kind of bad input, with the code and the words that name what was wrong. */
const BAD_INPUT: readonly Case[] = [
  ['PUT body without fields', 'PUT', '/api/v1/objects/a', { on: true }, 'CHORUS_BAD_REQUEST', /^body must have required property 'fields'$/],
  ['PUT fields not an object', 'PUT', '/api/v1/objects/a', { fields: 3 }, 'CHORUS_BAD_REQUEST', /^body\/fields must be object$/],
  ['PUT unknown body property', 'PUT', '/api/v1/objects/a', { fields: {}, extra: 1 }, 'CHORUS_BAD_REQUEST', /^body must NOT have property 'extra'$/],
  ['PATCH body an array', 'PATCH', '/api/v1/objects/a', [1, 2], 'CHORUS_BAD_REQUEST', /^body must be object$/],
  ['PATCH without a body', 'PATCH', '/api/v1/objects/a', undefined, 'CHORUS_BAD_REQUEST', /^body must be object$/],
  ['object id with a control character', 'PUT', '/api/v1/objects/a%01b', { fields: {} }, 'CHORUS_INVALID_OBJECT_ID', /control characters/],
  ['object id too long', 'GET', `/api/v1/objects/${id300}`, undefined, 'CHORUS_BAD_REQUEST', /^params\/id must NOT have more than 256 characters$/],
  ['field name with a control character', 'PATCH', '/api/v1/objects/a', { 'x\u0001': 1 }, 'CHORUS_INVALID_FIELD_NAME', /control characters/],
  ['reserved field name', 'PATCH', '/api/v1/objects/a', JSON.parse('{"constructor": 1}') as unknown, 'CHORUS_INVALID_FIELD_NAME', /reserved/],
  ['value nested too deep', 'PATCH', '/api/v1/objects/a', deep, 'CHORUS_VALUE_TOO_DEEP', /deeper than/],
  ['limit not a number', 'GET', '/api/v1/objects?limit=ten', undefined, 'CHORUS_BAD_REQUEST', /^querystring\/limit must be integer$/],
  ['limit out of range', 'GET', '/api/v1/objects?limit=1001', undefined, 'CHORUS_BAD_REQUEST', /^querystring\/limit must be <= 1000$/],
  ['limit zero', 'GET', '/api/v1/objects?limit=0', undefined, 'CHORUS_BAD_REQUEST', /^querystring\/limit must be >= 1$/],
  ['unknown query parameter', 'PATCH', '/api/v1/objects/a?replica=2', {}, 'CHORUS_BAD_REQUEST', /^querystring must NOT have property 'replica'$/],
  ['replicas zero', 'PATCH', '/api/v1/objects/a?replicas=0', {}, 'CHORUS_BAD_REQUEST', /^querystring\/replicas must be an integer from 1 to 1000 or "all", got 0$/],
  ['replicas above 1000', 'PATCH', '/api/v1/objects/a?replicas=1001', {}, 'CHORUS_BAD_REQUEST', /^querystring\/replicas must be an integer from 1 to 1000 or "all", got 1001$/],
  ['replicas a word', 'DELETE', '/api/v1/objects/a?replicas=most', undefined, 'CHORUS_BAD_REQUEST', /got "most"$/],
  ['replicas a fraction', 'PUT', '/api/v1/objects/a?replicas=1.5', { fields: {} }, 'CHORUS_BAD_REQUEST', /got 1.5$/],
  ['replicas given twice', 'PATCH', '/api/v1/objects/a?replicas=1&replicas=2', {}, 'CHORUS_BAD_REQUEST', /got \["1","2"\]$/],
  ['timeoutMs zero', 'PATCH', '/api/v1/objects/a?replicas=1&timeoutMs=0', {}, 'CHORUS_BAD_REQUEST', /^querystring\/timeoutMs must be >= 1$/],
  ['timeoutMs above ten minutes', 'DELETE', '/api/v1/objects/a/fields/f?replicas=1&timeoutMs=600001', undefined, 'CHORUS_BAD_REQUEST', /^querystring\/timeoutMs must be <= 600000$/],
  ['ifAbsent not a boolean', 'PUT', '/api/v1/objects/a?ifAbsent=yes', { fields: {} }, 'CHORUS_BAD_REQUEST', /^querystring\/ifAbsent must be boolean$/],
  ['sync without uuid', 'POST', '/sync', {}, 'CHORUS_BAD_REQUEST', /^body must have required property 'uuid'$/],
  ['sync uuid a number', 'POST', '/sync', { uuid: 42 }, 'CHORUS_BAD_REQUEST', /^body\/uuid must be string$/],
  ['sync uuid in an array', 'POST', '/sync', { uuid: ['a'] }, 'CHORUS_BAD_REQUEST', /^body\/uuid must be string$/],
  ['sync uuid empty', 'POST', '/sync', { uuid: '' }, 'CHORUS_BAD_REQUEST', /^body\/uuid must NOT have fewer than 1 characters$/],
  ['sync uuid too long', 'POST', '/sync', { uuid: 'u'.repeat(129) }, 'CHORUS_BAD_REQUEST', /^body\/uuid must NOT have more than 128 characters$/],
  ['sync uuid with a control character', 'POST', '/sync', { uuid: 'a\nb' }, 'CHORUS_BAD_REQUEST', /^body\/uuid must not contain control characters/],
  ['ip without ip', 'POST', '/ip', { uuid: 'a' }, 'CHORUS_BAD_REQUEST', /^body must have required property 'ip'$/],
  ['ip not an address', 'POST', '/ip', { uuid: 'a', ip: '300.1.1.1' }, 'CHORUS_BAD_REQUEST', /^body\/ip must be an IPv4 or IPv6 address, got "300.1.1.1"$/],
  ['ip a host name', 'POST', '/ip', { uuid: 'a', ip: 'example.com' }, 'CHORUS_BAD_REQUEST', /must be an IPv4 or IPv6 address/],
  ['ip with a port', 'POST', '/ip', { uuid: 'a', ip: '10.0.0.1:80' }, 'CHORUS_BAD_REQUEST', /must be an IPv4 or IPv6 address/],
  ['sync from our own id', 'POST', '/sync', { uuid: 'a0000000000000000000000000000001' }, 'CHORUS_INVALID_PEER', /this node's own id/],
];

describe('400: bad input names what was wrong', () => {
  it.each(BAD_INPUT)('%s', async (_what, method, url, body, code, message) => {
    const { app, node } = await makeApp();
    const r = await call(app, method, url, body);
    expect(r.statusCode, r.body).toBe(400);
    const e = errorOf(r);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(node.writes).toEqual([]);
  });

  it('malformed JSON is 400', async () => {
    const { app } = await makeApp();
    const r = await app.inject({ method: 'PATCH', url: '/api/v1/objects/a', payload: '{"on": tru', headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r).code).toBe('CHORUS_BAD_REQUEST');
  });

  it('a body that is not JSON is 415', async () => {
    const { app } = await makeApp();
    const r = await app.inject({ method: 'PATCH', url: '/api/v1/objects/a', payload: '<on/>', headers: { 'content-type': 'application/xml' } });
    expect(r.statusCode).toBe(415);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_UNSUPPORTED_MEDIA_TYPE', message: 'content-type "application/xml" is not accepted: send application/json' });
  });

  it('an empty JSON body on DELETE is no body', async () => {
    const { app, node } = await makeApp();
    node.store.put('a', { on: true });
    const r = await app.inject({ method: 'DELETE', url: '/api/v1/objects/a', payload: '', headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(200);
  });
});

describe('404', () => {
  it('an unknown route, and a missing object', async () => {
    const { app } = await makeApp();
    for (const [method, url] of [['GET', '/api/v2/objects'], ['POST', '/api/v1/objects'], ['GET', '/nothing/here?x=1']] as const) {
      const r = await call(app, method, url);
      expect(r.statusCode).toBe(404);
      expect(errorOf(r)).toEqual({ code: 'CHORUS_NOT_FOUND', message: `no route ${method} ${url.split('?')[0]}` });
    }
    const r = await call(app, 'GET', '/api/v1/objects/ghost');
    expect(r.statusCode).toBe(404);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_NOT_FOUND', message: 'object "ghost" does not exist' });
  });
});

describe('413', () => {
  it('a body over the limit (1 MiB by default) is refused before parsing', async () => {
    const { app, node } = await makeApp();
    const r = await call(app, 'PATCH', '/api/v1/objects/a', { big: 'x'.repeat(1024 * 1024) });
    expect(r.statusCode).toBe(413);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_BODY_TOO_LARGE', message: 'the request body is larger than 1048576 bytes' });
    expect(node.writes).toEqual([]);
  });

  it('the limit is configurable', async () => {
    const { app } = await makeApp({ bodyLimit: 2048 });
    expect((await call(app, 'PATCH', '/api/v1/objects/a', { v: 'x'.repeat(1900) })).statusCode).toBe(200);
    const r = await call(app, 'POST', '/sync', { uuid: 'u', pad: 'x'.repeat(3000) });
    expect(r.statusCode).toBe(413);
    expect(errorOf(r).message).toBe('the request body is larger than 2048 bytes');
  });

  it('a value over the store limit is 413 too', async () => {
    const { app } = await makeApp();
    const r = await call(app, 'PATCH', '/api/v1/objects/a', { big: 'x'.repeat(100_000) });
    expect(r.statusCode).toBe(413);
    expect(errorOf(r).code).toBe('CHORUS_VALUE_TOO_LARGE');
  });
});

describe('503 and 500', () => {
  it('every route answers 503 while the node shuts down', async () => {
    const { app, node } = await makeApp();
    node.stoppingNow = true;
    for (const [method, url, body] of [['GET', '/api/v1/objects', undefined], ['PATCH', '/api/v1/objects/a', { on: true }], ['POST', '/sync', { uuid: 'u' }], ['GET', '/healthz', undefined], ['GET', '/nowhere', undefined]] as const) {
      const r = await call(app, method, url, body);
      expect(r.statusCode).toBe(503);
      expect(errorOf(r)).toEqual({ code: 'CHORUS_SHUTTING_DOWN', message: 'the node is shutting down' });
    }
    expect(node.writes).toEqual([]);
  });

  it('a node that is not attached yet answers 503, not 500', async () => {
    const { app, node } = await makeApp();
    node.get = () => {
      throw new ChorusError(ErrorCode.NotReady, 'the node is starting');
    };
    const r = await call(app, 'GET', '/api/v1/objects/a');
    expect(r.statusCode).toBe(503);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_NOT_READY', message: 'the node is starting' });
  });

  it('an unexpected failure is 500 without its details', async () => {
    const { app, node } = await makeApp();
    node.list = () => {
      throw new Error('secret internals');
    };
    const r = await call(app, 'GET', '/api/v1/objects');
    expect(r.statusCode).toBe(500);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_INTERNAL', message: 'internal error: see the node log' });
  });
});
