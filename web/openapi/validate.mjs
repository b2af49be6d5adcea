// Validates OpenAPI documents with @readme/openapi-parser: the OpenAPI 3.0 JSON schema, then what the
// schema cannot say (references resolve, path parameters are declared, operation ids are unique, …).
//
//   node validate.mjs --modules NODE_MODULES --logclf BIN   the documents `logclf serve` serves at
//                                                           /openapi.json, without and with --api-key
//   node validate.mjs --modules NODE_MODULES --file DOC     one document on disk
//
// Prints `VALID: NAME` or `INVALID: NAME: problem` per document; exits 0 when every one is valid, 1 when
// one is not, 2 on a usage error.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { startServer, stopServer } from '../support/serve.mjs';

const { values: args } = parseArgs({
  options: {
    modules: { type: 'string' },
    logclf: { type: 'string' },
    file: { type: 'string' },
  },
});
if (!args.modules || !args.logclf === !args.file) {
  console.error('usage: node validate.mjs --modules NODE_MODULES (--logclf BIN | --file DOC)');
  process.exit(2);
}

// The parser comes from the build directory's npm install, not from beside this file.
const require = createRequire(path.join(path.resolve(args.modules), 'validate.cjs'));
const OpenAPIParser = require('@readme/openapi-parser');

async function validate(name, document) {
  try {
    // The parser dereferences what it validates: give it a copy.
    await OpenAPIParser.validate(structuredClone(document));
    console.log(`VALID: ${name}`);
    return true;
  } catch (error) {
    console.log(`INVALID: ${name}: ${error.message}`);
    return false;
  }
}

// Starts `logclf serve` on a free port, fetches /openapi.json, stops the server.
async function servedDocument(extraArgs) {
  const { server, base } = startServer(args.logclf, extraArgs);
  try {
    const response = await fetch(`${await base}/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
    return await response.json();
  } finally {
    await stopServer(server);
  }
}

let valid = true;
if (args.file) {
  let document;
  try {
    document = JSON.parse(fs.readFileSync(args.file, 'utf8'));
  } catch (error) {
    console.log(`INVALID: ${args.file}: ${error.message}`);
    process.exit(1);
  }
  valid = await validate(args.file, document);
} else {
  // With an API key the document also declares the bearer scheme and which operations need it.
  for (const [name, extraArgs] of [['/openapi.json', []], ['/openapi.json with --api-key', ['--api-key', 'k']]])
    valid = (await validate(name, await servedDocument(extraArgs))) && valid;
}
process.exit(valid ? 0 : 1);
