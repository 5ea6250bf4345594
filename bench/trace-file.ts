import fs from 'node:fs';
import { once } from 'node:events';


function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function kv(key: string, value: string | boolean | number): object {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number') return { key, value: { intValue: String(value) } };
  return { key, value: { stringValue: value } };
}

/**
 * Writes OTLP JSON lines of `spans` spans: calls of 10 spans each (root,
 * load + its pg span, in_live_call with 4 frame spans, flush + its pg span);
 * every 100th call also queries while live. Database spans are known by
 * their `db.system.name`. Returns the violations planted.
 *
 * Made to catch a checker that depends on order: 333 spans a line, so calls
 * are split across lines; each live query is a late child — written after
 * its in_live_call parent and root, and every other one at the very end of
 * the file; every 200th call is written a second time at the end (a
 * duplicate: it must not count twice).
 */
export async function writeTraceFile(file: string, spans: number, spansPerLine = 333): Promise<number> {
  const out = fs.createWriteStream(file);
  let line: object[] = [];
  let violations = 0;
  const flushLine = async (): Promise<void> => {
    if (line.length === 0) return;
    const request = { resourceSpans: [{ resource: { attributes: [kv('service.name', 'bench')] }, scopeSpans: [{ scope: { name: 'bench' }, spans: line }] }] };
    if (!out.write(`${JSON.stringify(request)}\n`)) await once(out, 'drain');
    line = [];
  };
  const calls = Math.ceil(spans / 10);
  const atTheEnd: object[] = [];
  for (let call = 0; call < calls; call += 1) {
    const traceId = hex(call + 1, 32);
    const id = (n: number): string => hex(call * 16 + n + 1, 16);
    const span = (n: number, name: string, parent: number | undefined, attributes: object[]): object => ({
      traceId,
      spanId: id(n),
      ...(parent === undefined ? {} : { parentSpanId: id(parent) }),
      name,
      kind: 3,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
      attributes,
    });
    const db = (text: string): object[] => [kv('db.system.name', 'postgresql'), kv('db.query.text', text)];
    const sid = `CA${hex(call, 32)}`;
    const callSpans = [
      span(2, 'pg.query:SELECT', 1, db('select ... from businesses left join ...')),
      span(1, 'call.load_context', 0, [kv('call.sid', sid)]),
      span(4, 'frame', 3, []),
      span(5, 'frame', 3, []),
      span(6, 'frame', 3, []),
      span(3, 'in_live_call', 0, [kv('live_call', true), kv('call.sid', sid)]),
      span(9, 'pg.query:COMMIT', 8, db('COMMIT')),
      span(8, 'call.flush', 0, []),
      span(0, 'media_stream', undefined, [kv('call.sid', sid)]),
    ];
    if (call % 100 === 99) {
      // Not stamped `live_call.id`: only its ancestry makes it a violation.
      const liveQuery = span(7, 'pg.query:SELECT', 3, db('select * from leads'));
      if (call % 200 === 99) callSpans.push(liveQuery);
      else atTheEnd.push(liveQuery);
      violations += 1;
    } else {
      callSpans.splice(3, 0, span(7, 'frame', 3, []));
    }
    if (call % 200 === 99 || call % 1000 === 0) atTheEnd.push(...callSpans);
    for (const s of callSpans) {
      line.push(s);
      if (line.length >= spansPerLine) await flushLine();
    }
  }
  for (const s of atTheEnd) {
    line.push(s);
    if (line.length >= spansPerLine) await flushLine();
  }
  await flushLine();
  out.end();
  await once(out, 'finish');
  return violations;
}
