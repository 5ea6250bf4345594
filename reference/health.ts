import type { Request, Response, Router } from 'express';
import express from 'express';
import type { Knex } from 'knex';

export interface HealthOptions {
  knex: Knex;
  /** How long `/readyz` waits for the database. Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** While true, `/readyz` answers 503 (draining). */
  isDraining?: () => boolean;
  /** While it returns a reason (the journal cannot keep writes), `/readyz` answers 503 `degraded` with it. */
  refusal?: () => string | undefined;
  /** More detail for `/readyz` (journal counts, live calls). */
  detail?: () => Record<string, unknown>;
}

/**
 * `GET /healthz`: the process is up (200).
 * `GET /readyz`: 200 when the database answers within the timeout and the
 * server is not draining, else 503 with the reason; with detail.
 */
export function healthRoutes(options: HealthOptions): Router {
  const timeoutMs = options.readinessTimeoutMs ?? 2000;
  const router = express.Router();
  router.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req: Request, res: Response) => {
    const detail = options.detail?.() ?? {};
    if (options.isDraining?.()) {
      res.status(503).json({ status: 'draining', ...detail });
      return;
    }
    const refusal = options.refusal?.();
    if (refusal !== undefined) {
      res.status(503).json({ status: 'degraded', reason: refusal, ...detail });
      return;
    }
    try {
      await options.knex.raw('select 1').timeout(timeoutMs, { cancel: true });
      res.json({ status: 'ready', database: 'ok', ...detail });
    } catch (error) {
      res.status(503).json({ status: 'unavailable', database: describe(error), ...detail });
    }
  });
  return router;
}

function describe(error: unknown): string {
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  if (name === 'KnexTimeoutError') return 'timeout';
  return code ?? message ?? String(error);
}
