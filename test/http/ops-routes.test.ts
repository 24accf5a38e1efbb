import request from 'supertest';
import { buildTestApp } from '../support/test-app';
import { PrivateRedis } from '../support/redis-server';

describe('/healthz and /readyz', () => {
  it('are 200 while the server can serve', async () => {
    const t = await buildTestApp({ store: 'redis' });
    await expect(request(t.app).get('/healthz')).resolves.toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { keys: 'ok', store: 'ok' } });
    expect(ready.headers['cache-control']).toBe('no-store');
    await t.close();
  });

  it('/readyz turns 503 as soon as shutdown begins, while /healthz stays 200', async () => {
    let shuttingDown = false;
    const t = await buildTestApp({ isShuttingDown: () => shuttingDown });
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    shuttingDown = true;
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'not_ready', checks: { keys: 'ok', store: 'ok', lifecycle: 'shutting down' } });
    expect((await request(t.app).get('/healthz')).status).toBe(200);
    await t.close();
  });

  it('/readyz is 503 while Redis is unreachable and 200 again when it is back', async () => {
    const server = await PrivateRedis.start();
    const t = await buildTestApp({ store: 'redis', redisUrl: server.url });
    await server.stop();
    const down = await request(t.app).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ checks: { store: 'unreachable' } });
    await server.start();
    await new Promise<void>((resolve) => {
      if (t.redis!.status === 'ready') resolve();
      else t.redis!.once('ready', () => { resolve(); });
    });
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    await t.close();
    await server.destroy();
  });
});
