#!/usr/bin/env node
// ONNX Runtime reference benchmark for logclf's E5-small-v2 encoder speed target (">= 1.2x ONNX Runtime's
// speed on the same machine"). Measures the same workload as `logclf bench encoder`:
//
//   W = every message of the seed data set (shared/data/synthetic_logs.csv, column log_message) with the
//   "passage: " prefix, tokenized with Hugging Face's own tokenizer (the ids in shared/golden/e5_tokenizer.jsonl,
//   looked up by text), sorted by length, in batches of 32, each padded to its longest member.
//
//   node bench.mjs --model MODEL.onnx [--threads 2] [--runs 1] [--batch 32] [--shared DIR]
//                  [--save-optimized FILE.onnx]
//   node bench.mjs --model TINY.onnx --check-golden shared/golden/tiny-bert/golden.jsonl [--threads 2]
//
// GFLOP/s counts the work the same way as the C++ benchmark (tools/logclf/bench_encoder_command.cc): for each
// message of len real tokens, 2·len·L·(4·H² + 2·H·I) for the linear layers plus 4·len²·H·L for the two
// attention products (q·kᵀ and probs·v); LayerNorm, GELU, softmax, pooling and padding are not counted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'usage: node bench.mjs --model MODEL.onnx [--threads N] [--runs N] [--batch N] [--shared DIR]\n' +
      '                      [--save-optimized FILE.onnx] [--check-golden golden.jsonl]\n',
  );
  process.exit(code);
}

function parseArgs(argv) {
  const a = {
    model: null,
    threads: 2,
    runs: 1,
    batch: 32,
    shared: process.env.LOGCLF_SHARED_DIR ?? path.resolve(repoRoot, '../shared'),
    saveOptimized: null,
    checkGolden: null,
    hidden: 384,
    layers: 12,
    intermediate: 1536,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(2);
      return argv[++i];
    };
    if (arg === '--model') a.model = value();
    else if (arg === '--threads') a.threads = Number(value());
    else if (arg === '--runs') a.runs = Number(value());
    else if (arg === '--batch') a.batch = Number(value());
    else if (arg === '--shared') a.shared = value();
    else if (arg === '--save-optimized') a.saveOptimized = value();
    else if (arg === '--check-golden') a.checkGolden = value();
    else if (arg === '-h' || arg === '--help') usage(0);
    else usage(2);
  }
  if (!a.model || !(a.threads >= 1) || !(a.runs >= 1) || !(a.batch >= 1)) usage(2);
  return a;
}

function sessionOptions(a, extra = {}) {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    ...extra,
  };
}

function procStatusMB(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// Makes VmHWM restart from the current RSS (Linux >= 4.0), as the C++ benchmark does before loading.
function resetPeakRss() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// Minimal RFC 4180 reader: quoted fields with "" escapes, commas and newlines inside quotes.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// [batch, seq] int64 input_ids and attention_mask for sequences padded (with id 0) to the longest.
function makeFeeds(seqs) {
  const width = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(seqs.length * width);
  const mask = new BigInt64Array(seqs.length * width);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids[b * width + t] = BigInt(s[t]);
      mask[b * width + t] = 1n;
    }
  });
  return {
    input_ids: new ort.Tensor('int64', ids, [seqs.length, width]),
    attention_mask: new ort.Tensor('int64', mask, [seqs.length, width]),
  };
}

function countOpTypes(file) {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const counts = new Map();
  for (const n of model.graph.node) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
}

async function checkGolden(a) {
  const lines = fs.readFileSync(a.checkGolden, 'utf8').split('\n').filter((l) => l.trim());
  const golden = lines.map((l) => JSON.parse(l));
  const session = await ort.InferenceSession.create(a.model, sessionOptions(a));
  const outName = session.outputNames[0];
  let maxDiff = 0;
  let worst = -1;
  const check = async (items, label) => {
    let localMax = 0;
    for (let start = 0; start < items.length; start += a.batch) {
      const batch = items.slice(start, start + a.batch);
      const out = (await session.run(makeFeeds(batch.map((g) => g.ids))))[outName];
      const dim = out.dims[1];
      batch.forEach((g, b) => {
        if (g.embedding.length !== dim) throw new Error(`embedding length ${g.embedding.length} != ${dim}`);
        for (let j = 0; j < dim; j++) {
          const d = Math.abs(out.data[b * dim + j] - g.embedding[j]);
          if (d > localMax) localMax = d;
          if (d > maxDiff) {
            maxDiff = d;
            worst = golden.indexOf(g);
          }
        }
      });
    }
    console.log(`${label}: max |onnxruntime - golden| = ${localMax.toExponential(3)}`);
  };
  await check(golden, `batches of ${a.batch} in file order, padded`);
  await check([...golden].sort((x, y) => x.ids.length - y.ids.length), 'sorted by length, padded');
  let alone = 0;
  for (const g of golden) {
    const out = (await session.run(makeFeeds([g.ids])))[outName];
    for (let j = 0; j < g.embedding.length; j++) {
      const d = Math.abs(out.data[j] - g.embedding[j]);
      alone = Math.max(alone, d);
      if (d > maxDiff) {
        maxDiff = d;
        worst = golden.indexOf(g);
      }
    }
  }
  console.log(`one text per batch (no padding): max |onnxruntime - golden| = ${alone.toExponential(3)}`);
  const longest = Math.max(...golden.map((g) => g.ids.length));
  const pass = maxDiff < 1e-4;
  console.log(
    `golden check: ${golden.length} texts (longest ${longest} tokens), ONNX Runtime ${ort.env.versions.common}: ` +
      `max abs difference ${maxDiff.toExponential(3)} (worst text #${worst}) ${pass ? '< 1e-4: PASS' : '>= 1e-4: FAIL'}`,
  );
  return pass ? 0 : 1;
}

async function bench(a) {
  const dataFile = path.join(a.shared, 'data/synthetic_logs.csv');
  const tokensFile = path.join(a.shared, 'golden/e5_tokenizer.jsonl');
  for (const f of [dataFile, tokensFile]) if (!fs.existsSync(f)) throw new Error(`${f} not found (--shared DIR)`);

  // Workload: seed messages -> "passage: " + message -> Hugging Face token ids (by text).
  const rows = parseCsv(fs.readFileSync(dataFile, 'utf8'));
  const header = rows.shift();
  const col = header.indexOf('log_message');
  if (col < 0) throw new Error(`${dataFile}: no log_message column`);
  const messages = rows.filter((r) => r.length === header.length).map((r) => r[col]);
  const idsByText = new Map();
  for (const line of fs.readFileSync(tokensFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { text, ids } = JSON.parse(line);
    if (!idsByText.has(text)) idsByText.set(text, ids);
  }
  const seqs = messages.map((m) => {
    const ids = idsByText.get(`passage: ${m}`);
    if (!ids) throw new Error(`no token ids in ${tokensFile} for "passage: ${m.slice(0, 60)}..."`);
    return ids;
  });
  seqs.sort((x, y) => x.length - y.length); // stable, as the C++ benchmark's std::stable_sort
  const tokens = seqs.reduce((s, x) => s + x.length, 0);
  const longest = seqs[seqs.length - 1].length;
  const batches = [];
  for (let i = 0; i < seqs.length; i += a.batch) batches.push(makeFeeds(seqs.slice(i, i + a.batch)));
  const paddedTokens = batches.reduce((s, b) => s + b.input_ids.size, 0);

  const H = a.hidden;
  const L = a.layers;
  const I = a.intermediate;
  let linear = 0;
  let attention = 0;
  for (const s of seqs) {
    linear += 2 * s.length * L * (4 * H * H + 2 * H * I);
    attention += 4 * s.length * s.length * H * L;
  }
  const flops = linear + attention;

  console.log(`onnxruntime-node ${ort.env.versions.node} (ONNX Runtime ${ort.env.versions.common}), Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`);
  console.log(`model:     ${a.model}`);
  console.log(`data:      ${dataFile} (${messages.length} messages); token ids from ${tokensFile}`);
  console.log(
    `workload:  ${seqs.length} messages with the "passage: " prefix, ${tokens} tokens (mean ${(tokens / seqs.length).toFixed(1)}, ` +
      `longest ${longest}), ${batches.length} batches of up to ${a.batch} sorted by length, ${paddedTokens} tokens with padding`,
  );
  console.log(
    `flops:     ${(flops / 1e12).toFixed(3)} TFLOP per pass (linear ${(linear / 1e12).toFixed(3)}, attention ${(attention / 1e12).toFixed(3)}); ` +
      `per real token 2·${L}·(4·${H}² + 2·${H}·${I}) + 2·2·len·${H}·${L}, len = its message's real length`,
  );

  const rssBefore = procStatusMB('VmRSS');
  const peakReset = resetPeakRss();
  const loadStart = performance.now();
  const session = await ort.InferenceSession.create(a.model, sessionOptions(a));
  const loadMs = performance.now() - loadStart;
  console.log(
    `session:   graphOptimizationLevel all, intraOpNumThreads ${a.threads}, interOpNumThreads 1, executionMode sequential; ` +
      `created in ${loadMs.toFixed(0)} ms; RSS ${rssBefore.toFixed(0)} MB before, ${procStatusMB('VmRSS').toFixed(0)} MB after`,
  );

  const outName = session.outputNames[0];
  // Exports of the Hugging Face model (e.g. Xenova's model_quantized.onnx) also take token_type_ids: all 0.
  if (session.inputNames.includes('token_type_ids'))
    for (const feeds of batches)
      feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(feeds.input_ids.size), feeds.input_ids.dims);
  await session.run(batches[batches.length - 1]); // warm-up on the longest batch
  const rates = [];
  for (let run = 1; run <= a.runs; run++) {
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    for (const feeds of batches) {
      const out = await session.run(feeds);
      // [batch, H] sentence vectors, or [batch, seq, H] last_hidden_state (an export's own output).
      const width = out[outName].dims[out[outName].dims.length - 1];
      if (width !== H) throw new Error(`output width ${width} != ${H}`);
    }
    const seconds = (performance.now() - t0) / 1e3;
    const cpu = cpuSeconds() - cpu0;
    rates.push(seqs.length / seconds);
    console.log(
      `run ${run}:     ${seconds.toFixed(2)} s: ${(seqs.length / seconds).toFixed(1)} messages/s, ${(tokens / seconds).toFixed(0)} tokens/s, ` +
        `${(flops / seconds / 1e9).toFixed(1)} GFLOP/s; ${cpu.toFixed(1)} s of CPU (${(flops / cpu / 1e9).toFixed(1)} GFLOP per CPU-second)`,
    );
  }
  if (a.runs > 1) {
    const best = Math.max(...rates);
    console.log(`best:      ${best.toFixed(1)} messages/s (${((best * flops) / seqs.length / 1e9).toFixed(1)} GFLOP/s); worst ${Math.min(...rates).toFixed(1)}`);
  }
  const hwm = procStatusMB('VmHWM');
  const maxrss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `memory:    peak RSS ${hwm.toFixed(0)} MB ${peakReset ? 'from session creation on (VmHWM reset before it)' : '(VmHWM)'}; ` +
      `whole process ${maxrss.toFixed(0)} MB (getrusage maxrss, incl. Node and the token-id file)`,
  );
  await session.release();
  if (a.saveOptimized) {
    // A separate session after the timed one (and its RSS figures), so that neither is changed by serialisation.
    const s = await ort.InferenceSession.create(a.model, sessionOptions(a, { optimizedModelFilePath: a.saveOptimized }));
    await s.release();
    const ops = countOpTypes(a.saveOptimized);
    console.log(`optimised: ${a.saveOptimized}: ${ops.reduce((s, [, n]) => s + n, 0)} nodes: ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  }

  return 0;
}

const args = parseArgs(process.argv.slice(2));
const code = args.checkGolden ? await checkGolden(args) : await bench(args);
process.exit(code);
