import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** The documented entry points: all the reference app may import of the layer. */
const ENTRIES = ['index.ts', 'guard.ts', 'sdk.ts', 'check.ts', 'twilio.ts'];

/** The reference app (the receptionist, its server, CLI, simulator, database): never imported by the layer. */
const REFERENCE = [/^app\/reference\//, /^db\//, /^cli\//, /^config\.ts$/, /^register\.ts$/, /^sim\/(simulate|verify-simulation|percentile)\.ts$/];

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

/** The project files a source file imports (relative specifiers, resolved to .ts under src/). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\s*\(?\s*['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1] ?? m[2]!);
  return specifiers.map((specifier) => path.relative(SRC, path.resolve(SRC, path.dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

const isReference = (file: string) => REFERENCE.some((pattern) => pattern.test(file));

describe('the layer and the reference app', () => {
  const files = sourceFiles();

  it('sees the sources', () => {
    expect(files.filter(isReference).length).toBeGreaterThan(10);
    expect(files.filter((file) => !isReference(file)).length).toBeGreaterThan(20);
  });

  it('the layer never imports the reference app', () => {
    const offending = files
      .filter((file) => !isReference(file))
      .flatMap((file) => importsOf(file).filter(isReference).map((target) => `${file} → ${target}`));
    expect(offending).toEqual([]);
  });

  it('the reference app imports the layer only through its public entry points', () => {
    const offending = files
      .filter((file) => file.startsWith('app/reference/'))
      .flatMap((file) => importsOf(file).filter((target) => !isReference(target) && !ENTRIES.includes(target)).map((target) => `${file} → ${target}`));
    expect(offending).toEqual([]);
  });
});
