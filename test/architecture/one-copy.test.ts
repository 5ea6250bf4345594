import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';

function definitionsOf(name: string, dirs: string[]): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (file.endsWith('.ts') && new RegExp(`function ${name}\\b`).test(fs.readFileSync(path.join(ROOT, file), 'utf8'))) found.push(file);
    }
  };
  for (const dir of dirs) visit(dir);
  return found;
}

describe('one copy', () => {
  it('settlesWithin is the layer\'s alone: the reference app keeps no second copy of it', () => {
    expect(definitionsOf('settlesWithin', ['src', 'reference', 'examples'])).toEqual(['src/settles-within.ts']);
  });
});
