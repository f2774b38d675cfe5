import type { OpenApiDocument, Operation, Parameter } from './openapi.ts';
import type { Schema } from './schemas.ts';

// The /docs page: the OpenAPI document rendered as one self-contained HTML page (inline CSS,
// no scripts, no external assets), so it works on a LAN without internet access.

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An example value for `schema`: its first example, its default, or one built from its type. */
export function exampleOf(schema: unknown, components: Readonly<Record<string, Schema>>, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 6) return null;
  const s = schema as Schema;
  if (Array.isArray(s['examples']) && s['examples'].length > 0) return s['examples'][0];
  if (s['default'] !== undefined) return s['default'];
  if (s['const'] !== undefined) return s['const'];
  if (Array.isArray(s['enum'])) return s['enum'][0];
  if (typeof s['$ref'] === 'string') return exampleOf(components[s['$ref'].replace('#/components/schemas/', '')], components, depth + 1);
  if (Array.isArray(s['anyOf'])) return exampleOf(s['anyOf'][0], components, depth + 1);
  const type = Array.isArray(s['type']) ? s['type'][0] : s['type'];
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((s['properties'] ?? {}) as Record<string, Schema>)) out[k] = exampleOf(v, components, depth + 1);
      return out;
    }
    case 'array':
      return [exampleOf(s['items'], components, depth + 1)];
    case 'string':
      return typeof s['minLength'] === 'number' && s['minLength'] > 0 ? 'x' : 'string';
    case 'integer':
    case 'number':
      return typeof s['minimum'] === 'number' ? s['minimum'] : 0;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** A schema in a few words: `integer 1..1000`, `"all"`, `string`, `Error`. */
function typeText(s: Schema): string {
  if (typeof s['$ref'] === 'string') return s['$ref'].replace('#/components/schemas/', '');
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as Schema[]).map(typeText).join(' | ');
  if (s['const'] !== undefined) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(s['type']) ? (s['type'] as string[]).join(' | ') : String(s['type'] ?? 'any');
  const lo = s['minimum'] ?? s['minLength'];
  const hi = s['maximum'] ?? s['maxLength'];
  const range = lo !== undefined || hi !== undefined ? ` ${String(lo ?? '')}..${String(hi ?? '')}` : '';
  const dflt = s['default'] !== undefined ? `, default ${JSON.stringify(s['default'])}` : '';
  return `${type}${range}${dflt}`;
}

function parametersHtml(params: readonly Parameter[]): string {
  if (params.length === 0) return '';
  const rows = params.map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${p.in}</td><td>${esc(typeText(p.schema))}</td><td>${p.required ? 'yes' : 'no'}</td><td>${esc(p.description ?? '')}</td></tr>`);
  return `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>${rows.join('')}</table>`;
}

function jsonBlock(v: unknown): string {
  return `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
}

function operationHtml(method: string, path: string, op: Operation, components: Readonly<Record<string, Schema>>): string {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const parts = [`<section id="${esc(id)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>`];
  if (op.summary !== undefined) parts.push(`<p><b>${esc(op.summary)}</b></p>`);
  if (op.description !== undefined) parts.push(`<p>${esc(op.description)}</p>`);
  parts.push(`<p class="scope">scope: ${esc(op['x-scope'] ?? 'public')}</p>`);
  parts.push(parametersHtml(op.parameters ?? []));
  const body = op.requestBody?.content['application/json']?.schema;
  if (body !== undefined) parts.push(`<h4>Request body</h4>${jsonBlock(exampleOf(body, components))}`);
  parts.push('<h4>Responses</h4><dl>');
  for (const [status, r] of Object.entries(op.responses)) {
    const json = r.content?.['application/json']?.schema;
    const media = Object.keys(r.content ?? {}).filter((m) => m !== 'application/json');
    parts.push(`<dt>${esc(status)} ${esc(r.description)}${media.length > 0 ? ` (${esc(media.join(', '))})` : ''}</dt>`);
    if (json !== undefined && status.startsWith('2')) parts.push(`<dd>${jsonBlock(exampleOf(json, components))}</dd>`);
  }
  parts.push('</dl></section>');
  return parts.join('\n');
}

const CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.6em;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
section{border-top:1px solid #ccc;margin-top:1.5em}.m{display:inline-block;min-width:4.5em;color:#fff;border-radius:3px;padding:0 .4em;text-align:center}
.get{background:#2a7}.put{background:#c80}.patch{background:#a5c}.post{background:#27c}.delete{background:#c33}.scope{color:#666}`;

/** The whole /docs page for `doc`. */
export function renderDocs(doc: OpenApiDocument): string {
  const ops: { method: string; path: string; op: Operation }[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(byMethod)) ops.push({ method, path, op });
  const index = ops.map(({ method, path, op }) => `<li><a href="#${esc(`${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-'))}">${method.toUpperCase()} ${esc(path)}</a> ${esc(op.summary ?? '')}</li>`);
  const errorExample = exampleOf(doc.components.schemas['Error'], doc.components.schemas);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title><style>${CSS}</style></head>
<body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}). Every error has one shape:</p>${jsonBlock(errorExample)}
<h2>Routes</h2><ul>${index.join('')}</ul>
${ops.map(({ method, path, op }) => operationHtml(method, path, op, doc.components.schemas)).join('\n')}
</body></html>
`;
}
