/**
 * The floor: a plain Express 5 hello-world answering GET /api/public with JSON of the same shape
 * as ours. Express defaults, except ETags off (our server turns them off too, so the floor does
 * not pay for a hash we do not compute).
 */
import express from 'express';

const app = express();
app.set('etag', false);
app.get('/api/public', (_req, res) => {
  res.json({ message: 'This endpoint is public.', timestamp: new Date().toISOString() });
});

const port = Number(process.env.PORT ?? 3100);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => {
  process.stdout.write(`baseline listening on http://${host}:${port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
