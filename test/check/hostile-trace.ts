/**
 * One OTLP JSON line of a call whose strings try to break out of HTML: a
 * live query whose text closes the report's script and opens one of its
 * own, an <img onerror>, and a call sid with markup.
 */
export function hostileTraceLine(): string {
  const kv = (key: string, value: string | boolean): object =>
    ({ key, value: typeof value === 'boolean' ? { boolValue: value } : { stringValue: value } });
  const traceId = 'e'.repeat(32);
  const t = (ms: number): string => String(BigInt(1_800_000_000_000 + ms) * 1_000_000n);
  const query = '</script><script>globalThis.pwned=1</script><img src=x onerror="globalThis.pwned=2">';
  const sid = '<b>CA-evil</b>';
  const spans = [
    { traceId, spanId: 'a000000000000001', name: 'media_stream', startTimeUnixNano: t(0), endTimeUnixNano: t(100), attributes: [kv('call.sid', sid)] },
    {
      traceId,
      spanId: 'a000000000000002',
      parentSpanId: 'a000000000000001',
      name: 'in_live_call',
      startTimeUnixNano: t(10),
      endTimeUnixNano: t(90),
      attributes: [kv('live_call', true), kv('call.sid', sid)],
      events: [
        {
          name: 'live_call.db_violation',
          timeUnixNano: t(20),
          attributes: [kv('live_call.span_id', 'a000000000000003'), kv('db.query.text', query), kv('code.stacktrace', 'at <svg onload=alert(1)> (x.ts:1:1)')],
        },
      ],
    },
    {
      traceId,
      spanId: 'a000000000000003',
      parentSpanId: 'a000000000000002',
      name: 'pg.query:SELECT "><script>',
      startTimeUnixNano: t(20),
      endTimeUnixNano: t(25),
      attributes: [kv('db.system.name', 'postgresql'), kv('db.query.text', query)],
    },
  ];
  return `${JSON.stringify({ resourceSpans: [{ scopeSpans: [{ scope: { name: 'x' }, spans }] }] })}\n`;
}
