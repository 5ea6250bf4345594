// Imports one module specifier (argv[2]) in this fresh process and prints, as
// JSON, how long the import took and which npm packages it loaded. knex,
// twilio and the OTel SDK are CommonJS, so `require.cache` lists them even
// when they are reached through ESM imports.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const specifier = process.argv[2];
if (!specifier) throw new Error('usage: node import-probe.mjs SPECIFIER');
const started = performance.now();
const loaded = await import(specifier);
const importMs = performance.now() - started;

const packages = new Set();
for (const file of Object.keys(createRequire(import.meta.url).cache)) {
  // The innermost node_modules names the package the file belongs to.
  const parts = file.split(/[\\/]node_modules[\\/]/);
  if (parts.length < 2) continue;
  const [scope, name] = parts.at(-1).split(/[\\/]/);
  packages.add(scope.startsWith('@') ? `${scope}/${name}` : scope);
}
process.stdout.write(`${JSON.stringify({ importMs, exports: Object.keys(loaded).sort(), packages: [...packages].sort() })}\n`);
