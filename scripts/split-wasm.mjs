// The one program, cut into its first load and the parts loaded on demand.
// Run by scripts/build-bundle after `trunk build --release --features split`
// (cargo linked with --emit-relocs), in place of trunk's own last steps:
//
//   1. wasm-split-cli cuts the linked module at every `on_demand!` split point
//      (Leptos' wasm_split): the main module, one chunk per part, chunks of
//      code two parts share, and the loader `__wasm_split.js`;
//   2. wasm-bindgen (the pinned CLI) makes the main module's JS glue, keeping
//      the exports the chunks link to (table, memory: --keep-lld-exports);
//   3. wasm-opt -Oz (binaryen from the npm lockfile) shrinks every module;
//   4. esbuild minifies the glue and the loader;
//   5. every file gets one content hash of the whole program in its name (the
//      glue imports the loader and the loader the glue: one hash for both), and
//      dist/index.html is pointed at them, with the integrity of what it
//      preloads.
//
// trunk's own wasm-bindgen output of the unsplit module is replaced.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';

const NAME = 'perf-dashboard';
const target = process.env.CARGO_TARGET_DIR || 'target';
const linked = join(target, 'wasm32-unknown-unknown', 'release', `${NAME}.wasm`);
const index = 'dist/index.html';
// The wasm32 target's features (rustc 1.95 default), which wasm-opt must keep.
const WASM_FEATURES = [
  '--enable-bulk-memory',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-sign-ext',
  '--enable-reference-types',
  '--enable-multivalue',
];

const run = (command, args) => execFileSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const hash = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};
const minify = (code) =>
  transformSync(code, { minify: true, format: 'esm', target: 'es2020', legalComments: 'none' }).code;

const work = mkdtempSync(join(tmpdir(), 'split-wasm-'));
try {
  // 1. Split.
  const split = join(work, 'split');
  run('wasm-split-cli', [linked, split, '--out-name', NAME]);
  const chunks = readdirSync(split).filter((f) => f.endsWith('.wasm') && f !== `${NAME}.wasm`);
  if (chunks.length === 0) {
    console.error(`${linked} has no split point: was it built with --features split and --emit-relocs?`);
    process.exit(1);
  }
  // 2. The main module's glue.
  const bound = join(work, 'bound');
  run('wasm-bindgen', [
    '--target', 'web', '--no-typescript', '--keep-lld-exports',
    '--out-dir', bound, '--out-name', NAME, join(split, `${NAME}.wasm`),
  ]);
  // 3. Smaller modules. wasm-opt warns about every name subsection it does not
  // know (rustc's); the names go anyway (-Oz keeps none): the rest it says is shown.
  const optimise = (file) => {
    const result = spawnSync('wasm-opt', ['-Oz', ...WASM_FEATURES, file, '-o', file], { encoding: 'utf8' });
    const said = (result.stderr || '').split('\n').filter((l) => l && !/unknown name subsection/.test(l));
    if (said.length) console.error(said.join('\n'));
    if (result.status !== 0) {
      console.error(`wasm-opt failed on ${file}`);
      process.exit(1);
    }
  };
  optimise(join(bound, `${NAME}_bg.wasm`));
  for (const chunk of chunks) optimise(join(split, chunk));
  // 4. Smaller JS.
  let glue = minify(readFileSync(join(bound, `${NAME}.js`), 'utf8'));
  let loader = minify(readFileSync(join(split, '__wasm_split.js'), 'utf8'));
  // 5. Names with the program's hash.
  const mainWasm = readFileSync(join(bound, `${NAME}_bg.wasm`));
  const chunkBytes = chunks.map((c) => readFileSync(join(split, c)));
  const id = hash(mainWasm, ...chunkBytes, glue, loader);
  const names = {
    glue: `${NAME}-${id}.js`,
    wasm: `${NAME}-${id}_bg.wasm`,
    loader: `split-${id}.js`,
    chunk: (file) => file.replace(/\.wasm$/, `-${id}.wasm`),
  };
  const replaceAll = (text, from, to) => {
    if (!text.includes(from)) {
      console.error(`expected ${JSON.stringify(from)} in the generated JS`);
      process.exit(1);
    }
    return text.split(from).join(to);
  };
  // Only the import's specifier: the wasm module's import names stay.
  const loaderImport = /(from\s*)(["'])\.\/__wasm_split\.js\2/g;
  if (!loaderImport.test(glue)) {
    console.error('expected the glue to import ./__wasm_split.js');
    process.exit(1);
  }
  glue = glue.replace(loaderImport, `$1$2./${names.loader}$2`);
  glue = glue.split(`${NAME}_bg.wasm`).join(names.wasm);
  loader = replaceAll(loader, `./${NAME}.js`, `./${names.glue}`);
  for (const chunk of chunks) loader = replaceAll(loader, `./${chunk}`, `./${names.chunk(chunk)}`);

  // What trunk wrote for the unsplit module goes.
  const trunkGlue = readdirSync('dist').find((f) => new RegExp(`^${NAME}-[0-9a-f]+\\.js$`).test(f));
  if (!trunkGlue) {
    console.error(`dist/ has no ${NAME}-<hash>.js from trunk`);
    process.exit(1);
  }
  const trunkBase = trunkGlue.replace(/\.js$/, '');
  for (const f of readdirSync('dist')) {
    if (f.startsWith(`${trunkBase}`)) rmSync(join('dist', f));
  }
  writeFileSync(join('dist', names.glue), glue);
  writeFileSync(join('dist', names.wasm), mainWasm);
  writeFileSync(join('dist', names.loader), loader);
  chunks.forEach((c, i) => writeFileSync(join('dist', names.chunk(c)), chunkBytes[i]));
  if (existsSync(join(bound, 'snippets'))) cpSync(join(bound, 'snippets'), 'dist/snippets', { recursive: true });

  // index.html: the new names; the preloads carry the integrity of their file.
  const integrity = (text) => `sha384-${createHash('sha384').update(text).digest('base64')}`;
  let html = readFileSync(index, 'utf8').split(trunkBase).join(`${NAME}-${id}`);
  html = html.replace(new RegExp(`<link\\b[^>]*/${names.glue.replace('.', '\\.')}[\\s"][^>]*>`, 'g'), (tag) =>
    tag.replace(/\sintegrity=("[^"]*"|[^\s>]+)/, ` integrity="${integrity(glue)}"`),
  );
  // The glue imports the loader: preload it beside the glue.
  html = html.replace(
    '</head>',
    `<link rel="modulepreload" href="/${names.loader}" integrity="${integrity(loader)}" crossorigin>\n</head>`,
  );
  writeFileSync(index, html);
  console.log(`split: ${NAME}-${id} + ${chunks.length} chunks (${chunks.join(', ')})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
