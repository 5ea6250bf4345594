import type { CallTimeline, Phase, Statement } from './call-timeline.js';
import { clip, escapeHtml as e } from './html-escape.js';
import type { TraceViolation } from './trace-checker.js';

const MAX_QUERY = 4000;
const MAX_STACK = 6000;
const PHASE_NAMES: Record<Phase, string> = { load: 'load (call.load_context)', live: 'live call (in_live_call)', flush: 'flush (call.flush)' };
const PHASE_SHORT: Record<Phase, string> = { load: 'load', live: 'LIVE CALL', flush: 'flush' };

export const WARNING_ICON =
  '<svg class="icon" aria-hidden="true" viewBox="0 0 16 16"><path d="M8 1.2 15.4 14.5H.6Z" fill="currentColor"/><path d="M8 5.8v4.4M8 11.8v1.2" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></svg>';
export const CHECK_ICON =
  '<svg class="icon" aria-hidden="true" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="currentColor"/><path d="m4.6 8.2 2.3 2.3 4.5-4.8" stroke="#fff" stroke-width="1.8" fill="none" stroke-linecap="round"/></svg>';

/** One call, drawn in full: heading, figures, timeline, violation details, statement table. */
export function callSection(call: CallTimeline, index: number): string {
  const id = `call-${index + 1}`;
  const n = call.violations.length;
  const sid = call.callSid ?? '(no call sid)';
  const badge =
    n > 0
      ? `<span class="badge bad">${WARNING_ICON}${n} ${n === 1 ? 'VIOLATION' : 'VIOLATIONS'}</span>`
      : `<span class="badge ok">${CHECK_ICON}CLEAN</span>`;
  return `<section class="call ${n > 0 ? 'has-violations' : 'clean'}" id="${id}" aria-labelledby="${id}-h" data-call data-violations="${n}" data-sid="${e(call.callSid ?? '')}" data-trace="${e(call.traceId)}">
<h2 id="${id}-h">${badge}<span>Call <code>${e(sid)}</code></span></h2>
${meta(call)}
${timeline(call, id)}
${call.violations.length > 0 ? `<h3 class="vh">Violations (${call.violations.length})</h3>` : ''}
${call.violations.map((v, i) => violationCard(v, `${id}-v${i + 1}`, i === 0)).join('\n')}
${statementTable(call, id)}
</section>`;
}

function meta(call: CallTimeline): string {
  const items: Array<[string, string]> = [
    ['trace id', `<code>${e(call.traceId)}</code>`],
    ['duration', call.originMs === undefined ? 'no times in the input' : ms(call.durationMs)],
    ['started', call.originMs === undefined ? '—' : e(new Date(call.originMs).toISOString())],
  ];
  const f = call.figures;
  if (f) {
    items.push(['DB statements load / live / flush', `${num(f.queriesLoad)} / ${num(f.queriesLive)} / ${num(f.queriesFlush)}`]);
    items.push(['DB time', f.timeMs === undefined ? '—' : ms(f.timeMs)]);
  }
  return `<dl class="meta">${items.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

function timeline(call: CallTimeline, id: string): string {
  const span = call.durationMs > 0 ? call.durationMs : 1;
  const pct = (t: number): string => `${Math.min(100, Math.max(0, (t / span) * 100)).toFixed(3)}%`;
  const width = (from: number, to: number): string => `${Math.min(100, Math.max(0, ((to - from) / span) * 100)).toFixed(3)}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f, i, all) => `<span class="tick${i === 0 ? ' first' : i === all.length - 1 ? ' last' : ''}" style="left:${f * 100}%">${i === 0 ? '0' : ms(f * call.durationMs)}</span>`)
    .join('');
  const grid = [0.25, 0.5, 0.75].map((f) => `<span class="gridline" style="left:${f * 100}%"></span>`).join('');
  const backdrop = call.phases
    .map((p) => `<span class="band ${p.phase}" style="left:${pct(p.startMs)};width:${width(p.startMs, p.endMs)}"></span>`)
    .join('');
  const bands = call.phases
    .map((p) => `<span class="band ${p.phase}" style="left:${pct(p.startMs)};width:${width(p.startMs, p.endMs)}" title="${PHASE_NAMES[p.phase]}: ${ms(p.endMs - p.startMs)}">${PHASE_SHORT[p.phase]}</span>`)
    .join('');
  const rows = call.statements.map((s) => {
    const bar =
      s.startMs === undefined
        ? ''
        : `<span class="bar" style="left:${pct(s.startMs)};width:${width(s.startMs, s.startMs + (s.durationMs ?? 0))}"></span>`;
    const text = s.query ?? s.name;
    const tag = s.violation ? `<span class="tag">${WARNING_ICON}VIOLATION${s.violation.blocked ? ' · BLOCKED' : ''}</span>` : '';
    return `<li class="tl-row${s.violation ? ' violation' : ''}"><span class="tl-label" title="${e(clip(text, 500))}">${tag}<code>${e(clip(text, 300))}</code></span><span class="tl-dur">${duration(s)}</span><span class="tl-track">${bar}</span></li>`;
  });
  const left = call.statementsLeftOut > 0 ? `<p class="more">${call.statementsLeftOut} more statements not drawn.</p>` : '';
  return `<figure class="timeline" aria-labelledby="${id}-tl">
<figcaption id="${id}-tl" class="more">Timeline: the call's phases and each database statement on one time axis (ms from the call's start). <span class="legend" aria-hidden="true"><span class="sw load"></span>load <span class="sw live"></span>live call (dashed: no statement may run in it) <span class="sw flush"></span>flush <span class="sw stmt"></span>statement <span class="sw bad"></span>violation</span></figcaption>
<div class="tl" aria-hidden="true">
<span class="overlay">${grid}${backdrop}</span>
<div class="tl-row tl-head"><span class="tl-label">statement</span><span class="tl-dur">duration</span><span class="tl-track">${ticks}</span></div>
<div class="tl-row phases"><span class="tl-label">phases</span><span class="tl-dur"></span><span class="tl-track">${bands}</span></div>
<ol class="tl-rows">${rows.join('')}</ol>
</div>
${left}
</figure>`;
}

function violationCard(v: TraceViolation, id: string, open: boolean): string {
  const rows: Array<[string, string]> = [
    ['call sid', `<code>${e(v.callSid ?? '(unknown)')}</code>`],
    ['trace id', `<code>${e(v.traceId)}</code>`],
    ['span id', v.spanId ? `<code>${e(v.spanId)}</code>` : '(not exported: the query was blocked)'],
    ['span', `<code>${e(v.spanName)}</code>`],
    ['read from', `<code>${e(`${v.source.file}:${v.source.line}`)}</code>`],
  ];
  const site = firstFrame(v.stack);
  return `<details class="violation-card"${open ? ' open' : ''}>
<summary id="${id}"><span class="tag">${WARNING_ICON}VIOLATION${v.blocked ? ' · BLOCKED' : ''}</span> <code class="q">${e(clip(v.query ?? v.spanName, 200))}</code>${site ? ` <span class="site">at ${e(clip(site, 200))}</span>` : ''}</summary>
<p>A database ${v.blocked ? 'query was blocked (block mode)' : 'query ran (report mode)'} during the live call.</p>
<div>Query</div><pre><code>${e(clip(v.query ?? '(no query text)', MAX_QUERY))}</code></pre>
<div>Call site (<code>code.stacktrace</code>)</div><pre>${e(clip(v.stack ?? '(not exported)', MAX_STACK))}</pre>
<dl>${rows.map(([k, val]) => `<dt>${k}</dt><dd>${val}</dd>`).join('')}</dl>
</details>`;
}

/** The call site's first line, without the leading `at`. */
function firstFrame(stack: string | undefined): string | undefined {
  const line = stack?.split('\n').find((l) => l.trim() !== '');
  return line?.trim().replace(/^at\s+/, '');
}

function statementTable(call: CallTimeline, id: string): string {
  const rows = call.statements.map(
    (s: Statement, i) => `<tr${s.violation ? ' class="violation"' : ''}><td class="num">${i + 1}</td><td>${
      s.violation ? `<strong>VIOLATION</strong>${s.violation.blocked ? ' (blocked)' : ''}` : 'ok'
    }</td><td><span class="ph ${s.phase ?? 'none'}">${s.phase ?? '?'}</span></td><td class="num">${s.startMs === undefined ? '—' : ms(s.startMs)}</td><td class="num">${duration(s)}</td><td><code>${e(clip(s.query ?? s.name, MAX_QUERY))}</code></td><td><code>${e(s.spanId ?? '—')}</code></td></tr>`,
  );
  const open = call.violations.length > 0 ? ' open' : '';
  return `<details${open}><summary>Database statements (${call.statements.length})</summary>
<table aria-labelledby="${id}-st"><caption id="${id}-st">Database statements of call ${e(call.callSid ?? call.traceId)}</caption>
<thead><tr><th scope="col">#</th><th scope="col">verdict</th><th scope="col">phase</th><th scope="col">start</th><th scope="col">duration</th><th scope="col">statement</th><th scope="col">span id</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></details>`;
}

function duration(s: Statement): string {
  return s.durationMs === undefined ? (s.violation?.blocked ? 'blocked' : '—') : ms(s.durationMs);
}

function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ms`;
}

function num(value: number | undefined): string {
  return value === undefined ? '—' : String(value);
}
