import type { LevelResult } from './calls.js';

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 130, top: 30, bottom: 50 };
const COLORS: Record<string, string> = { naive: '#d9480f', cached: '#1c7ed6', bare: '#868e96' };

/**
 * An SVG line chart: server-side p99 handling time of a media frame (µs, log
 * scale) against concurrent real-time calls, one line per server.
 */
export function latencyChart(levels: readonly LevelResult[]): string {
  const servers = [...new Set(levels.map((l) => l.server))];
  const xs = [...new Set(levels.map((l) => l.calls))].sort((a, b) => a - b);
  const values = levels.map((l) => Math.max(1, l.frameUs.p99));
  const [minLog, maxLog] = [Math.floor(Math.log10(Math.min(...values))), Math.ceil(Math.log10(Math.max(...values)))];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (calls: number): number => MARGIN.left + (xs.length === 1 ? plotW / 2 : (xs.indexOf(calls) / (xs.length - 1)) * plotW);
  const y = (us: number): number =>
    MARGIN.top + plotH - ((Math.log10(Math.max(1, us)) - minLog) / Math.max(1, maxLog - minLog)) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">Media frame handling time, p99 (server side)</text>`,
  ];
  for (let decade = minLog; decade <= maxLog; decade += 1) {
    const yy = y(10 ** decade);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${yy + 4}" text-anchor="end">${10 ** decade} µs</text>`);
  }
  for (const calls of xs) {
    parts.push(`<text x="${x(calls)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${calls}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">concurrent real-time calls</text>`);
  servers.forEach((server, index) => {
    const points = levels.filter((l) => l.server === server).sort((a, b) => a.calls - b.calls);
    const color = COLORS[server] ?? '#000';
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.map((p) => `${x(p.calls)},${y(p.frameUs.p99)}`).join(' ')}"/>`,
    );
    for (const p of points) parts.push(`<circle cx="${x(p.calls)}" cy="${y(p.frameUs.p99)}" r="3.5" fill="${color}"/>`);
    const ly = MARGIN.top + 20 + index * 20;
    parts.push(`<line x1="${WIDTH - MARGIN.right + 15}" x2="${WIDTH - MARGIN.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 46}" y="${ly + 4}">${server}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
