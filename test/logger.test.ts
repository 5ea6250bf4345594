import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import type pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

/** Counts calls of `logger.bindings()` (a JSON.parse of the logger's bindings in pino). */
function countBindings(logger: pino.Logger): () => number {
  let calls = 0;
  const original = logger.bindings.bind(logger);
  logger.bindings = () => {
    calls++;
    return original();
  };
  return () => calls;
}

describe('createLogger', () => {
  it("does not re-parse a logger's bindings on every line inside a span", () => {
    const { logger, lines } = capture();
    const call = logger.child({ call_sid: 'CA_LOG' });
    const calls = countBindings(call);
    trace.getTracer('test').startActiveSpan('work', (span) => {
      for (let i = 0; i < 50; i++) call.info({ i }, 'a line');
      span.end();
    });
    expect(lines).toHaveLength(50);
    expect(calls()).toBeLessThanOrEqual(1);
  });

  it("adds the active span's ids, unless the line's logger carries a trace_id (also one set later)", () => {
    const { logger, lines } = capture();
    const call = logger.child({ call_sid: 'CA_LOG' });
    trace.getTracer('test').startActiveSpan('work', (span) => {
      call.info('plain');
      logger.child({ trace_id: 'mine' }).info('own trace');
      call.setBindings({ trace_id: 'set later' });
      call.info('after setBindings');
      span.end();
    });
    const [plain, own, after] = lines;
    expect(plain).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(own).toMatchObject({ trace_id: 'mine' });
    expect(own).not.toHaveProperty('span_id');
    expect(after).toMatchObject({ trace_id: 'set later' });
    expect(after).not.toHaveProperty('span_id');
  });
});
