// Liveness (/healthz) and readiness (/readyz: 503 with Retry-After while the database does not answer).
import { Router } from 'express';
import { databaseIsReady } from '../database';

export function healthRouter(): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ready = await databaseIsReady();
    res.set('Cache-Control', 'no-store');
    if (!ready) {
      res.status(503).set('Retry-After', '5').json({ status: 'unavailable', database: 'down' });
      return;
    }
    res.json({ status: 'ok', database: 'up' });
  });
  return router;
}
