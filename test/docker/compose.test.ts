import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const ROOT = join(__dirname, '..', '..');

/** The parts of the Compose specification this test reads; anything else in the file passes through. */
const healthcheck = z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number().int().positive() });
const service = z.object({
  image: z.string().optional(),
  build: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
  healthcheck: z.union([healthcheck, z.object({ disable: z.literal(true) })]).optional(),
  read_only: z.boolean().optional(),
});
const composeFile = z.object({ services: z.record(z.string(), service), volumes: z.record(z.string(), z.null()).optional() });

const compose = composeFile.parse(parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')));
const services = compose.services;

function get(name: string): z.infer<typeof service> {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

describe('docker-compose.yml', () => {
  it('starts the server after healthy Redis and PostgreSQL and a finished migration', () => {
    expect(get('server').depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(get('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(get('migrate').command).toEqual(['node', 'dist/cli/db-migrate.js']);
  });

  it('gives every long-running service a health check', () => {
    for (const name of ['server', 'redis', 'postgres']) {
      expect([name, get(name).healthcheck]).toEqual([name, expect.objectContaining({ test: expect.arrayContaining([expect.any(String)]) })]);
    }
    expect(get('redis').healthcheck).toMatchObject({ test: ['CMD', 'redis-cli', 'ping'] });
    expect(get('postgres').healthcheck).toMatchObject({ test: expect.arrayContaining(['pg_isready']) });
    // The server's is the image's HEALTHCHECK: /healthz, asked by node (no curl in a slim image).
    expect(get('server').healthcheck).toMatchObject({ test: expect.arrayContaining([expect.stringContaining("path:'/healthz'")]) });
  });

  it('wires the server and the migration to the same PostgreSQL and Redis, in production mode, with the keys read-only', () => {
    for (const name of ['server', 'migrate']) {
      const environment = get(name).environment ?? {};
      expect(environment.NODE_ENV).toBe('production');
      expect(environment.DATABASE_URL).toMatch(/^postgres:\/\/jts:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/jts$/);
      expect(environment.REDIS_URL).toBe('redis://redis:6379');
      expect(get(name).volumes).toEqual(['./keys:/app/keys:ro']);
      expect(get(name).read_only).toBe(true);
    }
    expect(get('postgres').environment).toMatchObject({ POSTGRES_USER: 'jts', POSTGRES_DB: 'jts', POSTGRES_PASSWORD: expect.stringMatching(/^\$\{POSTGRES_PASSWORD:\?/) });
  });

  it('keeps Redis and PostgreSQL data in named volumes, Redis append-only', () => {
    expect(get('redis').command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(get('redis').volumes).toEqual(['redis-data:/data']);
    expect(get('postgres').volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['postgres-data', 'redis-data']);
  });
});
