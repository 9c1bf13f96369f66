// Minifies wasm-bindgen's JS glue (trunk's minifier leaves it as it is) with
// esbuild from the npm lockfile: about 1.9 KB less on the first load. The
// integrity that index.html gives a minified file is computed again. Run by
// scripts/build-bundle after `trunk build`, before externalize-start.mjs.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { transformSync } from 'esbuild';

const index = 'dist/index.html';
let html = readFileSync(index, 'utf8');
const glue = readdirSync('dist').filter(
  (f) => f.endsWith('.js') && (/^perf-dashboard-[0-9a-f]+\.js$/.test(f) || f === 'load_tester.js'),
);
if (glue.length !== 2) {
  console.error(`expected the two wasm-bindgen glue files in dist/, found ${glue.join(', ')}`);
  process.exit(1);
}
for (const file of glue) {
  const path = `dist/${file}`;
  const { code } = transformSync(readFileSync(path, 'utf8'), {
    minify: true,
    format: 'esm',
    target: 'es2020',
    legalComments: 'none',
  });
  writeFileSync(path, code);
  const integrity = `sha384-${createHash('sha384').update(code).digest('base64')}`;
  // The link that names this file keeps an integrity that matches it.
  html = html.replace(new RegExp(`<link\\b[^>]*/${file.replace('.', '\\.')}[\\s"][^>]*>`, 'g'), (tag) =>
    tag.replace(/\sintegrity=("[^"]*"|[^\s>]+)/, ` integrity="${integrity}"`),
  );
}
writeFileSync(index, html);
