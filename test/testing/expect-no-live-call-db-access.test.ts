import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLiveCallDbAccess } from '../../src/testing/expect-no-live-call-db-access.js';
import { runInCallPhase } from '../../src/guard/call-db-report.js';
import { startLiveCall } from '../../src/guard/live-call.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { spanExporter } from '../helpers/spans.js';

describe('expectNoLiveCallDbAccess', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  function spansOf(traceId: string) {
    return spanExporter()
      .getFinishedSpans()
      .filter((span) => span.spanContext().traceId === traceId);
  }

  it('passes spans of a call whose live phase made no query', async () => {
    const live = startLiveCall({ callSid: 'CA-clean', tenantId: 1 });
    await runInCallPhase('flush', () => db.knex.raw('select 1'));
    live.run(() => 'frame handled');
    live.end();
    expect(() => expectNoLiveCallDbAccess(spansOf(live.span.spanContext().traceId))).not.toThrow();
  });

  it('throws, listing the query, for spans of a call that queried while live', async () => {
    const live = startLiveCall({ callSid: 'CA-dirty', tenantId: 1 });
    await live.run(() => db.knex.raw('select 42 as during_call'));
    live.end();
    expect(() => expectNoLiveCallDbAccess(spansOf(live.span.spanContext().traceId))).toThrow(
      /found 1:\n- call CA-dirty: select 42 as during_call/,
    );
  });
});
