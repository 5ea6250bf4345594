/**
 * The HTML report's inline style and script: no external file, font or
 * image, so the page opens from disk and from a CI artifact store. The
 * script reads only the page's own markup (no data in script text).
 */

export const REPORT_STYLE = `
:root{color-scheme:light dark;--bg:#f5f6f8;--card:#fff;--fg:#1c2128;--muted:#5b6470;--line:#d6dae0;--grid:rgba(28,33,40,.08);
--load:#dbe6fb;--load-fg:#1d4f9c;--live:#fff0c4;--live-edge:#c98a00;--live-fg:#7a5200;--flush:#d8f1df;--flush-fg:#1d6b36;
--bar:#4f6278;--bad:#c8202d;--bad-bg:#fdecec;--bad-fg:#a3121d;--ok:#1f7a3a;--ok-bg:#e5f5ea;--warn:#8a5a00;--warn-bg:#fff4d6;--focus:#1f6feb}
@media (prefers-color-scheme:dark){:root{--bg:#0e1116;--card:#161b22;--fg:#e6edf3;--muted:#9aa4b1;--line:#30363d;--grid:rgba(230,237,243,.08);
--load:#1a2c4a;--load-fg:#9cc2ff;--live:#3a2d0a;--live-edge:#d9a21b;--live-fg:#f2cc60;--flush:#15311f;--flush-fg:#8fdca6;
--bar:#8ea0b6;--bad:#ff5c66;--bad-bg:#3b1518;--bad-fg:#ff9aa1;--ok:#56d37c;--ok-bg:#12301c;--warn:#f2cc60;--warn-bg:#3a2d0a;--focus:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
a{color:var(--focus)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:6px 10px;z-index:9}
.wrap{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
header.top h1{font-size:20px;margin:0 0 12px}
.verdict{display:flex;align-items:flex-start;gap:8px;padding:10px 14px;border-radius:8px;font-weight:600;border:1px solid;margin-bottom:14px}
.verdict.fail{background:var(--bad-bg);color:var(--bad-fg);border-color:var(--bad)}
.verdict.pass{background:var(--ok-bg);color:var(--ok);border-color:var(--ok)}
.verdict.incomplete{background:var(--warn-bg);color:var(--warn);border-color:var(--warn)}
.verdict ul{margin:0;padding-left:18px;font-weight:400}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:8px;margin:0 0 8px}
.stats div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.stats dt{color:var(--muted);font-size:12px}.stats dd{margin:0;font-size:18px;font-weight:600}
.stats dd.bad{color:var(--bad)}
.inputs{color:var(--muted);font-size:12px;margin:4px 0 0;overflow-wrap:anywhere}
.controls{display:flex;flex-wrap:wrap;gap:16px;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin:16px 0;position:sticky;top:0;z-index:5}
.controls input[type=search]{font:inherit;padding:5px 8px;min-width:320px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.controls .status{color:var(--muted);margin-left:auto}
section.call{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:0 0 16px}
section.call.has-violations{border-left:6px solid var(--bad)}
section.call.clean{border-left:6px solid var(--ok)}
.call h2{font-size:16px;margin:0 0 6px;display:flex;flex-wrap:wrap;align-items:center;gap:8px}
.badge{display:inline-flex;align-items:center;gap:4px;font-size:11.5px;font-weight:700;letter-spacing:.03em;padding:2px 8px;border-radius:999px;border:1px solid}
.badge.bad{color:var(--bad-fg);background:var(--bad-bg);border-color:var(--bad)}
.badge.ok{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.icon{width:13px;height:13px;flex:none}
.verdict .icon{width:18px;height:18px;margin-top:1px}
.meta{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 10px;color:var(--muted);font-size:12.5px}
.meta dt{display:inline}.meta dd{display:inline;margin:0 0 0 4px;color:var(--fg)}
.timeline{margin:8px 0 12px;--label:38%;--dur:76px}
.tl{position:relative}
.tl-rows{list-style:none;margin:0;padding:0}
.tl-row{display:grid;grid-template-columns:var(--label) var(--dur) 1fr;align-items:center;min-height:22px;border-bottom:1px solid var(--grid)}
.tl-row>span{min-width:0}
.tl-label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding-right:8px;display:flex;align-items:center;gap:6px}
.tl-label code{overflow:hidden;text-overflow:ellipsis}
.tl-dur{text-align:right;padding-right:8px;color:var(--muted);font-variant-numeric:tabular-nums;font-size:12px}
.tl-track{position:relative;height:22px}
.tl-head{font-size:11.5px;color:var(--muted);border-bottom:1px solid var(--line)}
.tick{position:absolute;top:3px;transform:translateX(-50%);white-space:nowrap;font-variant-numeric:tabular-nums}
.tick.first{transform:none}.tick.last{transform:translateX(-100%)}
.overlay{position:absolute;top:0;bottom:0;left:calc(var(--label) + var(--dur));right:0;pointer-events:none}
.overlay .band{position:absolute;top:0;bottom:0}
.overlay .band.live{background:var(--live);opacity:.55;border-left:2px dashed var(--live-edge);border-right:2px dashed var(--live-edge)}
.overlay .band.load{background:var(--load);opacity:.45}.overlay .band.flush{background:var(--flush);opacity:.45}
.overlay .gridline{position:absolute;top:0;bottom:0;border-left:1px solid var(--grid)}
.tl-row.phases .tl-track .band{position:absolute;top:3px;bottom:3px;border-radius:4px;font-size:11px;font-weight:700;padding:0 6px;line-height:16px;white-space:nowrap;overflow:hidden;min-width:3px}
.band.load{background:var(--load);color:var(--load-fg)}.band.flush{background:var(--flush);color:var(--flush-fg)}
.tl-row.phases .band.live{background:var(--live);color:var(--live-fg);outline:2px solid var(--live-edge);outline-offset:-2px}
.bar{position:absolute;top:6px;height:10px;min-width:3px;border-radius:2px;background:var(--bar);z-index:1}
.tl-row.violation{background:var(--bad-bg)}
.tl-row.violation .bar{background:var(--bad);top:4px;height:14px;min-width:5px;box-shadow:0 0 0 2px var(--card)}
.tl-row.violation .tl-label code{color:var(--bad-fg);font-weight:600}
.tl-row.violation .tl-dur{color:var(--bad-fg);font-weight:600}
.tag{display:inline-flex;align-items:center;gap:3px;font-size:10.5px;font-weight:800;letter-spacing:.04em;color:#fff;background:var(--bad);border-radius:4px;padding:0 5px;flex:none}
.ph{font-size:10.5px;font-weight:700;border-radius:4px;padding:0 5px;flex:none}
.ph.load{background:var(--load);color:var(--load-fg)}.ph.live{background:var(--live);color:var(--live-fg)}.ph.flush{background:var(--flush);color:var(--flush-fg)}.ph.none{color:var(--muted)}
.more{color:var(--muted);font-size:12px;margin:4px 0}
.legend{display:inline-flex;flex-wrap:wrap;align-items:center;gap:4px;margin-left:6px}
.sw{display:inline-block;width:14px;height:10px;border-radius:2px;margin-left:8px;vertical-align:middle}
.sw.load{background:var(--load)}.sw.live{background:var(--live);outline:2px dashed var(--live-edge);outline-offset:-2px}.sw.flush{background:var(--flush)}
.sw.stmt{background:var(--bar)}.sw.bad{background:var(--bad)}
.vh{font-size:13px;margin:12px 0 6px}
.violation-card{border:1px solid var(--bad);background:var(--bad-bg);border-radius:8px;padding:6px 12px;margin:6px 0}
.violation-card>summary{color:var(--fg);margin:2px 0;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.violation-card>summary .q{color:var(--bad-fg);font-weight:600}
.violation-card>summary .site{color:var(--muted);font-size:12px}
.violation-card p{margin:6px 0}
.violation-card pre{margin:4px 0 8px;padding:8px;background:var(--card);border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:260px;overflow:auto}
.violation-card dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0 0 6px}
.violation-card dt{color:var(--muted)}.violation-card dd{margin:0;overflow-wrap:anywhere}
details>summary{cursor:pointer;color:var(--muted);margin:6px 0}
table{border-collapse:collapse;width:100%;font-size:12.5px}
caption{text-align:left;color:var(--muted);padding:4px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td code{white-space:pre-wrap;overflow-wrap:anywhere}
tr.violation td{background:var(--bad-bg)}
.listed ul{columns:2 360px;font-size:12.5px;padding-left:18px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
[hidden]{display:none!important}
`;

export const REPORT_SCRIPT = `
(function () {
  var only = document.getElementById('only-violations');
  var search = document.getElementById('search');
  var status = document.getElementById('filter-status');
  var items = Array.prototype.slice.call(document.querySelectorAll('[data-call]'));
  var drawn = document.querySelectorAll('section.call').length;
  function apply() {
    var term = search.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (item) {
      var match = (!only.checked || item.getAttribute('data-violations') !== '0') &&
        (term === '' || item.getAttribute('data-sid').toLowerCase().indexOf(term) >= 0 || item.getAttribute('data-trace').indexOf(term) >= 0);
      item.hidden = !match;
      if (match && item.tagName === 'SECTION') shown += 1;
    });
    status.textContent = 'Showing ' + shown + ' of ' + drawn + ' calls drawn in full';
  }
  only.addEventListener('change', apply);
  search.addEventListener('input', apply);
  apply();
})();
`;
