import request from 'supertest';
import { documentedRoutes } from '../../src/http/openapi/document';
import { listRoutes } from '../../src/http/route-table';
import { buildTestApp, type TestApp } from '../support/test-app';

type Json = Record<string, unknown>;

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Json;
  beforeAll(async () => {
    t = await buildTestApp();
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body as Json;
  });
  afterAll(async () => {
    await t.close();
  });

  const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

  it('is an OpenAPI 3.1 document naming this server', () => {
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String), version: expect.any(String) }, servers: [{ url: t.config.jts.issuer }] });
  });

  it('documents every route the app registers, and nothing else', () => {
    const served = listRoutes(t.app).map(key).sort();
    const documented = documentedRoutes(doc).map(key).sort();
    expect(served.length).toBeGreaterThan(20);
    expect(documented).toEqual(served);
  });

  it('documents only operations that are really served (none answers the generic 404)', async () => {
    for (const route of documentedRoutes(doc)) {
      const path = route.path.replace(/:[^/]+/g, 'x');
      const res = await request(t.app)[route.method.toLowerCase() as 'get' | 'post' | 'delete' | 'options'](path);
      expect({ route: key(route), notFound: res.status === 404 && (res.body as { message?: string }).message === 'No such endpoint.' }).toEqual({ route: key(route), notFound: false });
    }
  });

  it('and a path it does not document is the generic JSON 404', async () => {
    const res = await request(t.app).get('/jts/not-documented');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found', message: 'No such endpoint.' });
  });

  it('resolves every $ref', () => {
    const refs: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else collect(v);
        }
      }
    };
    collect(doc);
    expect(refs.length).toBeGreaterThan(30);
    for (const ref of new Set(refs)) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
      expect({ ref, found: target !== undefined }).toEqual({ ref, found: true });
    }
  });

  it('gives every operation at least one documented response and every error one the Error schema', () => {
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect({ op: `${method} ${path}`, responses: Object.keys(operation.responses).length > 0 }).toEqual({ op: `${method} ${path}`, responses: true });
      }
    }
    const responses = (doc.components as { responses: Record<string, { content: Record<string, { schema: Json }> }> }).responses;
    for (const response of Object.values(responses)) expect(response.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('describes the error body exactly as the server sends it', async () => {
    const schema = (doc.components as { schemas: { Error: { properties: Json; required: string[] } } }).schemas.Error;
    const bodies = [
      (await request(t.app).get('/api/profile')).body as Json,
      (await request(t.app).get('/nope')).body as Json,
    ];
    for (const body of bodies) {
      for (const field of Object.keys(body)) expect(Object.keys(schema.properties)).toContain(field);
      for (const field of schema.required) expect(body).toHaveProperty(field);
    }
    expect((schema.properties.error_code as { enum: string[] }).enum).toContain('JTS-401-05');
    expect((schema.properties.error as { enum: string[] }).enum).toEqual(expect.arrayContaining(['rate_limited', 'service_unavailable', 'session_compromised']));
  });
});
