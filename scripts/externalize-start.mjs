// Moves the inline <script type="module"> that trunk writes into dist/index.html
// (it starts the WASM app) into a content-hashed file of its own, so that the
// Content-Security-Policy in nginx.conf can allow scripts from 'self' only,
// without 'unsafe-inline'; and drops the `integrity` that Chromium ignores (and
// warns about) on fetch preloads. Run by scripts/build-bundle after `trunk build`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const index = 'dist/index.html';
// trunk's minifier may leave attribute values unquoted.
const inline = /<script type="?module"?>([\s\S]*?)<\/script>/;
let html = readFileSync(index, 'utf8');
const found = html.match(inline);
if (!found) {
  console.error(`${index} has no inline module script to move out`);
  process.exit(1);
}
const code = found[1].trim() + '\n';
const name = `start-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
const integrity = `sha384-${createHash('sha384').update(code).digest('base64')}`;
writeFileSync(`dist/${name}`, code);
html = html.replace(
  inline,
  `<script type="module" src="/${name}" integrity="${integrity}" crossorigin="anonymous"></script>`,
);
// Chromium ignores `integrity` on <link rel="preload" as="fetch"> and warns on
// every load; the WASM it preloads is fetched by the start script, which
// checks nothing either way. Scripts, module preloads and styles keep theirs.
html = html.replace(/<link\b[^>]*>/g, (tag) =>
  /\srel="?preload"?[\s>]/.test(tag) ? tag.replace(/\sintegrity=("[^"]*"|[^\s>]+)/, '') : tag,
);
if (/<script(?![^>]*\ssrc=)[^>]*>/.test(html)) {
  console.error(`${index} still has an inline script: the CSP would block it`);
  process.exit(1);
}
writeFileSync(index, html);
