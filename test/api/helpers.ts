import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildHttp, type HttpOptions } from '../../src/api/http.ts';
import { FakeNode } from './fake-node.ts';

/** An app over a fresh FakeNode; the rate limit is off unless asked for. */
export async function makeApp(opts: HttpOptions = {}): Promise<{ app: FastifyInstance; node: FakeNode }> {
  const node = new FakeNode();
  const app = buildHttp(node, { rateLimit: { perSecond: 0, burst: 1 }, ...opts });
  await app.ready();
  return { app, node };
}

/** One request; `body` is sent as JSON. */
export function call(app: FastifyInstance, method: NonNullable<InjectOptions['method']>, url: string, body?: unknown, extra: { remoteAddress?: string } = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), ...extra });
}

/** The error of an error-shaped answer, checking the shape on the way. */
export function errorOf(res: LightMyRequestResponse): { code: string; message: string } & Record<string, unknown> {
  const body = res.json() as { error?: { code?: unknown; message?: unknown } };
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') throw new Error(`not the error shape: ${res.body}`);
  return body.error as { code: string; message: string } & Record<string, unknown>;
}
