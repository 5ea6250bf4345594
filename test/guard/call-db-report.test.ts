import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receptionistContext } from '../../reference/context.js';
import { loadContext } from '../../src/context/load-context.js';
import { CallDbReport, runInCallPhase, withCallDbReport } from '../../src/guard/call-db-report.js';
import { insertTenants, type Tenants } from '../buffer/fixture-data.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('CallDbReport', () => {
  let db: TestDatabase;
  let t: Tenants;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await db.drop();
  });

  function underReport<T>(fn: () => Promise<T>): Promise<{ report: CallDbReport; result: T }> {
    const report = new CallDbReport();
    const root = trace.getTracer('test').startSpan('media_stream');
    return context.with(withCallDbReport(report, trace.setSpan(context.active(), root)), async () => {
      try {
        return { report, result: await fn() };
      } finally {
        root.end();
      }
    });
  }

  it("counts the commit of the layer's own start statement (a data-modifying `with … insert`)", async () => {
    const { report } = await underReport(() =>
      runInCallPhase('load', () =>
        loadContext(db.knex, receptionistContext, { callSid: 'CA_REPORT_CTE', streamSid: 'MZ_REPORT_CTE', tenantId: t.a, parameters: {} }, { streamKey: 'stream:MZ_REPORT_CTE' }),
      ),
    );
    expect(report.figures().queries.load).toBe(1);
    expect(report.figures().commits.load).toBe(1);
  });

  it('counts a commit for each data-modifying statement outside a transaction, none for reads', () => {
    const report = new CallDbReport();
    const statements = [
      'with claim as (insert into t (k) values ($1) returning 1) select * from claim',
      'WITH gone AS (DELETE FROM t WHERE k = $1 RETURNING *) SELECT count(*) FROM gone',
      'with x as (select 1) update t set k = 2',
      'with recent as (select updated_at, deleted from t) select * from recent',
      'select * from t for update',
      'update t set k = 1',
    ];
    for (const statement of statements) report.record('other', 1, statement);
    expect(report.figures().commits.other).toBe(4);
  });
});
