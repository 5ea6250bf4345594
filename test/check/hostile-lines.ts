/** One OTLP line of a live call with one live query, whose strings are whatever the test gives. */
export function liveQueryLine(options: { spanName?: string; query?: string; callSid?: string; traceByte?: string } = {}): string {
  const kv = (key: string, value: string | boolean): object => ({ key, value: typeof value === 'boolean' ? { boolValue: value } : { stringValue: value } });
  const traceId = (options.traceByte ?? 'c').repeat(32);
  const callSid = options.callSid ?? 'CA-hostile';
  const spans = [
    { traceId, spanId: 'b000000000000001', name: 'in_live_call', attributes: [kv('live_call', true), kv('call.sid', callSid)] },
    {
      traceId,
      spanId: 'b000000000000002',
      parentSpanId: 'b000000000000001',
      name: options.spanName ?? 'pg.query:SELECT',
      attributes: [kv('db.system.name', 'postgresql'), kv('db.query.text', options.query ?? 'SELECT 1')],
    },
  ];
  return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ scope: { name: 'x' }, spans }] }] });
}
