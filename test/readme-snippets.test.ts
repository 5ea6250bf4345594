import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIR = path.join(ROOT, '.data', 'readme-snippets');

/** The package's entry points, as the snippets import them, mapped to the sources. */
const ENTRIES: Record<string, string> = {
  'live-call-guard': 'src/index.js',
  'live-call-guard/guard': 'src/guard/index.js',
  'live-call-guard/sdk': 'src/sdk/index.js',
  'live-call-guard/check': 'src/check/index.js',
  'live-call-guard/twilio': 'src/twilio/index.js',
  'live-call-guard/testing': 'src/testing/index.js',
  'live-call-guard/realtime': 'src/realtime/index.js',
};

/** The documents whose snippets are checked: the README and every page of docs/ (a page without a ts block is fine). */
async function documents(): Promise<string[]> {
  const pages = (await fs.readdir(path.join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...pages.map((name) => `docs/${name}`)];
}

/** Every ```ts block of a document, with the file name its first line gives (`// file: name.ts`). */
async function snippets(document: string): Promise<Array<{ document: string; file: string | undefined; code: string; line: number }>> {
  const text = await fs.readFile(path.join(ROOT, document), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => ({
    document,
    file: /^\/\/ file: ([\w.-]+\.ts)\n/.exec(match[1]!)?.[1],
    code: match[1]!,
    line: text.slice(0, match.index).split('\n').length,
  }));
}

describe('README and docs/ snippets', () => {
  it('every TypeScript snippet of README.md and docs/*.md type-checks against the entry points', async () => {
    const docs = await documents();
    expect(docs.length).toBeGreaterThan(1);
    const blocks = (await Promise.all(docs.map((document) => snippets(document)))).flat();
    expect(blocks.filter((block) => block.document === 'README.md').length).toBeGreaterThanOrEqual(4);
    expect(blocks.filter((block) => !block.file).map((block) => `${block.document}:${block.line} has no "// file:" line`)).toEqual([]);
    // One directory for all: two snippets may not claim one file name.
    const names = blocks.map((block) => block.file!);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);

    await fs.rm(DIR, { recursive: true, force: true });
    await fs.mkdir(DIR, { recursive: true });
    for (const { document, file, code } of blocks) {
      const resolved = code.replace(/from '(live-call-guard(?:\/\w+)?)'/g, (_whole, name: string) => {
        const target = ENTRIES[name];
        if (!target) throw new Error(`${document} imports ${name}, which is no entry point`);
        return `from '${path.relative(DIR, path.join(ROOT, target))}'`;
      });
      await fs.writeFile(path.join(DIR, file!), resolved);
    }
    await fs.writeFile(
      path.join(DIR, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false }, include: ['*.ts'] }),
    );
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    const result = await promisify(execFile)(tsc, ['-p', path.join(DIR, 'tsconfig.json')], { cwd: ROOT }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: `${error.stdout}${error.stderr}` }),
    );
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
