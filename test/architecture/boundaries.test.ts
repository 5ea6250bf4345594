import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The layer's public entry points: all the reference app and the example may import of it. */
const ENTRIES = ['src/index.ts', 'src/guard/index.ts', 'src/sdk/index.ts', 'src/check/index.ts', 'src/twilio/index.ts', 'src/testing/index.ts', 'src/realtime/index.ts'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** What a source file imports, type-only imports included: project files (relative specifiers, resolved to .ts). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\s*\(?\s*['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1] ?? m[2]!);
  return specifiers.map((specifier) => path.join(path.dirname(file), specifier).replace(/\.js$/, '.ts'));
}

/** Import cycles among `files` (each as the path around it), type-only imports included. */
function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => target !== file)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe('the house: layer (src/) | reference app (reference/) | example (examples/)', () => {
  const layer = sourceFiles('src');
  const apps = [...sourceFiles('reference'), ...sourceFiles('examples')];

  it('sees the sources', () => {
    expect(layer.length).toBeGreaterThan(40);
    expect(apps.length).toBeGreaterThan(20);
    for (const entry of ENTRIES) expect(layer).toContain(entry);
  });

  it('the layer imports nothing outside src/', () => {
    const offending = layer.flatMap((file) => importsOf(file).filter((target) => !target.startsWith('src/')).map((target) => `${file} → ${target}`));
    expect(offending).toEqual([]);
  });

  it('the reference app and the example import the layer only through its public entry points', () => {
    const offending = apps.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('src/') && !ENTRIES.includes(target))
        .map((target) => `${file} → ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('no import cycle in the layer, type-only imports included', () => {
    expect(cycles(layer).map((cycle) => cycle.join(' → '))).toEqual([]);
  });
});
