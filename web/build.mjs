// Stages the files `logclf serve` embeds (the pages in src/ and the few files the pages need from npm
// packages) and generates the assembler file that embeds them (.incbin) and the C++ table that indexes
// them (src/server/assets.cc includes it).
//
//   node build.mjs --modules DIR/node_modules --out DIR
//
// Writes DIR/staging/ (the files, as served), DIR/web_assets.S, DIR/web_assets.h and prints the size.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'src');

// Request path → file in src/. Every other file in src/ is served as /assets/<name>.
const PAGES = { '/': 'index.html', '/docs': 'docs.html', '/redoc': 'redoc.html' };

// /assets/<name> → file in node_modules. Only what the pages load (no source maps, no unused builds).
const VENDORED = {
  'swagger-ui.css': 'swagger-ui-dist/swagger-ui.css',
  'swagger-ui-bundle.js': 'swagger-ui-dist/swagger-ui-bundle.js',
  'swagger-ui-bundle.js.LICENSE.txt': 'swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt',
  'redoc.standalone.js': 'redoc/bundles/redoc.standalone.js',
  'redoc.standalone.js.LICENSE.txt': 'redoc/bundles/redoc.standalone.js.LICENSE.txt',
  'chart.umd.js': 'chart.js/dist/chart.umd.js',
  'papaparse.min.js': 'papaparse/papaparse.min.js',
};
// Edits to vendored files, each required to match exactly once (a new version that changes the text fails
// the build). ReDoc's menu footer loads its logo from Redocly's CDN: an image that cannot decode is hidden
// by ReDoc's own onError handler, and the page makes no request to another host.
const PATCHES = [
  { name: 'redoc.standalone.js', from: 'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', to: 'src:"data:,"' },
];

// The packages whose code is embedded: their licence texts are served as /assets/licenses.txt.
const PACKAGES = ['swagger-ui-dist', 'redoc', 'chart.js', 'papaparse'];

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};

function fail(message) {
  console.error(`web/build.mjs: ${message}`);
  process.exit(1);
}

function contentType(file) {
  const type = CONTENT_TYPES[path.extname(file)];
  if (!type) fail(`no content type known for ${file}: add its extension to CONTENT_TYPES`);
  return type;
}

function licenses(modules) {
  const parts = [];
  for (const name of PACKAGES) {
    const dir = path.join(modules, name);
    const { version, license } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const texts = fs.readdirSync(dir).filter((f) => /^(LICEN[CS]E|NOTICE)(\.(md|txt))?$/i.test(f)).sort();
    if (!texts.some((f) => /^LICEN[CS]E/i.test(f))) fail(`${name} ships no LICENSE file`);
    parts.push(`${'='.repeat(78)}\n${name} ${version} (${license})\n${'='.repeat(78)}\n`);
    for (const f of texts) parts.push(`${fs.readFileSync(path.join(dir, f), 'utf8').trim()}\n\n`);
  }
  return parts.join('');
}

// Every /assets/ file a page refers to must be in the table: a typo fails the build, not the browser.
function checkReferences(assets) {
  for (const asset of assets.filter((a) => a.type.startsWith('text/html'))) {
    const html = fs.readFileSync(asset.file, 'utf8');
    for (const [, ref] of html.matchAll(/(?:src|href)="(\/[^"#?]*)"/g)) {
      if (!assets.some((a) => a.path === ref)) fail(`${asset.path} refers to ${ref}, which is not embedded`);
    }
  }
}

function asmString(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function cxxString(s) {
  if (!/^[\x20-\x7e]*$/.test(s) || /["\\]/.test(s)) fail(`unexpected characters in ${JSON.stringify(s)}`);
  return `"${s}"`;
}

function main() {
  const { values } = parseArgs({ options: { modules: { type: 'string' }, out: { type: 'string' } } });
  if (!values.modules || !values.out) fail('usage: node build.mjs --modules NODE_MODULES --out DIR');
  const modules = path.resolve(values.modules);
  const out = path.resolve(values.out);
  const staging = path.join(out, 'staging');
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, 'assets'), { recursive: true });

  const assets = [];
  const digest = crypto.createHash('sha256');
  const stage = (requestPath, name, content) => {
    const file = path.join(staging, name);
    fs.writeFileSync(file, content);
    assets.push({ path: requestPath, type: contentType(name), file, size: content.length });
    digest.update(requestPath).update('\0').update(content);
  };
  const pageFiles = new Set(Object.values(PAGES));
  for (const [requestPath, name] of Object.entries(PAGES)) {
    stage(requestPath, name, fs.readFileSync(path.join(SRC, name)));
  }
  for (const name of fs.readdirSync(SRC).sort()) {
    if (!pageFiles.has(name)) stage(`/assets/${name}`, `assets/${name}`, fs.readFileSync(path.join(SRC, name)));
  }
  for (const [name, from] of Object.entries(VENDORED)) {
    const file = path.join(modules, from);
    if (!fs.existsSync(file)) fail(`${file} is missing: did npm ci run, and does the package still ship it?`);
    let content = fs.readFileSync(file);
    for (const patch of PATCHES.filter((p) => p.name === name)) {
      const parts = content.toString('utf8').split(patch.from);
      if (parts.length !== 2) fail(`${from}: expected ${patch.from} once, found it ${parts.length - 1} times`);
      content = Buffer.from(parts.join(patch.to));
    }
    stage(`/assets/${name}`, `assets/${name}`, content);
  }
  stage('/assets/licenses.txt', 'assets/licenses.txt', Buffer.from(licenses(modules)));
  const seen = new Set();
  for (const a of assets) {
    if (seen.has(a.path)) fail(`${a.path} is embedded twice`);
    seen.add(a.path);
  }
  checkReferences(assets);
  // Byte order, the order std::string_view compares in: find_asset() searches the table by bisection.
  assets.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // The digest changes this file whenever a staged file changes, so the build assembles it again.
  const asm = ['# Generated by web/build.mjs: the files served by `logclf serve`.',
    `# sha256 of the staged files: ${digest.digest('hex')}`, '.section .rodata'];
  assets.forEach((a, i) => {
    asm.push(`.global logclf_web_asset_${i}`, `.hidden logclf_web_asset_${i}`,
      `.type logclf_web_asset_${i}, @object`, '.balign 16',
      `logclf_web_asset_${i}:`, `.incbin ${asmString(a.file)}`, `.size logclf_web_asset_${i}, ${a.size}`);
  });
  asm.push('.section .note.GNU-stack,"",@progbits', '');

  const header = [
    '// Generated by web/build.mjs: the files served by `logclf serve`, sorted by path. Included by',
    '// src/server/assets.cc only.',
    '#pragma once',
    '',
    '#include "server/assets.h"',
    '',
    'extern "C" {',
    ...assets.map((_, i) => `extern const char logclf_web_asset_${i}[];`),
    '}',
    '',
    'namespace logclf::server::generated {',
    '',
    'inline constexpr Asset kAssets[] = {',
    ...assets.map((a, i) => `    {${cxxString(a.path)}, ${cxxString(a.type)}, {logclf_web_asset_${i}, ${a.size}}},`),
    '};',
    '',
    '}  // namespace logclf::server::generated',
    '',
  ];

  // Written only when changed, so an unchanged table does not recompile assets.cc.
  const write = (file, text) => {
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  };
  write(path.join(out, 'web_assets.S'), asm.join('\n'));
  write(path.join(out, 'web_assets.h'), header.join('\n'));

  const total = assets.reduce((sum, a) => sum + a.size, 0);
  console.log(`web assets: ${assets.length} files, ${(total / 1024).toFixed(0)} KiB embedded`);
}

main();
