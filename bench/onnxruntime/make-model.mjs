#!/usr/bin/env node
// Writes an ONNX model (opset 17, fp32) of Hugging Face's BertModel in eval mode followed by
// sentence-transformers' mean pooling and L2 normalisation, for the ONNX Runtime reference benchmark.
//
//   node make-model.mjs [OUT.onnx] [--seed N]            random weights, e5-small-v2's exact shape
//   node make-model.mjs OUT.onnx --safetensors FILE [--config config.json]
//                                                        weights from FILE, config from --config (default:
//                                                        config.json beside FILE)
//
//   --fused-attention: each layer's self-attention as one com.microsoft Attention node instead (what the
//                      offline onnxruntime.transformers.optimizer would write), for an upper bound on ORT.
//
// Inputs input_ids and attention_mask, int64 [batch, seq]; output sentence_embedding, float [batch, hidden].
//
// The graph is laid out as torch.onnx / optimum export BertModel (opset 17): Gather of the word, position and
// token-type embeddings, LayerNormalization; per layer MatMul+Add for Q/K/V, Reshape to heads and Transpose
// (K straight to [0,2,3,1], as torch's exporter folds the two transposes), MatMul, Div by sqrt(head size),
// Add of the extended mask (1 - mask) * finfo(float32).min, Softmax, MatMul, Transpose, Reshape, MatMul+Add,
// residual Add, LayerNormalization, MatMul+Add, erf GELU (x * 0.5 * (1 + erf(x / sqrt 2))), MatMul+Add,
// residual Add, LayerNormalization. Differences from a raw torch export, all of which ORT's own basic
// optimisations would produce anyway: Reshape targets are constants ([0,0,heads,head_size], [0,0,hidden])
// rather than Shape/Gather/Concat chains, constants are initializers rather than Constant nodes, and
// Linear is MatMul(x, Wᵀ) followed by Add(·, bias) (x first, the order ORT's fusions look for).
// Random weights are normal(0, 0.02) for every tensor (biases too, so no Add is a no-op that ORT could
// remove), LayerNorm scales are 1; speed does not depend on the values.
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const E5_SMALL_V2 = {
  vocab_size: 30522,
  hidden_size: 384,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 1536,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
};

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'usage: node make-model.mjs [OUT.onnx] [--seed N] [--safetensors FILE [--config FILE]] [--fused-attention]\n' +
      '  default OUT: /tmp/logclf-e5-small-v2-random.onnx (random weights of e5-small-v2\'s shape)\n',
  );
  process.exit(code);
}

function parseArgs(argv) {
  const a = { out: null, seed: 1, safetensors: null, config: null, fused: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(2);
      return argv[++i];
    };
    if (arg === '--seed') a.seed = Number(value());
    else if (arg === '--safetensors') a.safetensors = value();
    else if (arg === '--config') a.config = value();
    else if (arg === '--fused-attention') a.fused = true;
    else if (arg === '-h' || arg === '--help') usage(0);
    else if (arg.startsWith('-')) usage(2);
    else if (a.out === null) a.out = arg;
    else usage(2);
  }
  if (!Number.isInteger(a.seed)) usage(2);
  if (a.out === null) a.out = a.safetensors ? '/tmp/logclf-bert-from-safetensors.onnx' : '/tmp/logclf-e5-small-v2-random.onnx';
  return a;
}

// ---- weights --------------------------------------------------------------------------------------------

// mulberry32 + Box-Muller: a small seeded normal generator (reproducible across machines and Node versions).
function normalGenerator(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

function randomWeights(config, seed) {
  const normal = normalGenerator(seed);
  const h = config.hidden_size;
  const inter = config.intermediate_size;
  const shapes = {
    'embeddings.word_embeddings.weight': [config.vocab_size, h],
    'embeddings.position_embeddings.weight': [config.max_position_embeddings, h],
    'embeddings.token_type_embeddings.weight': [config.type_vocab_size, h],
    'embeddings.LayerNorm.weight': [h],
    'embeddings.LayerNorm.bias': [h],
  };
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const name of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      shapes[`${p}${name}.weight`] = [h, h];
      shapes[`${p}${name}.bias`] = [h];
    }
    shapes[`${p}attention.output.LayerNorm.weight`] = [h];
    shapes[`${p}attention.output.LayerNorm.bias`] = [h];
    shapes[`${p}intermediate.dense.weight`] = [inter, h];
    shapes[`${p}intermediate.dense.bias`] = [inter];
    shapes[`${p}output.dense.weight`] = [h, inter];
    shapes[`${p}output.dense.bias`] = [h];
    shapes[`${p}output.LayerNorm.weight`] = [h];
    shapes[`${p}output.LayerNorm.bias`] = [h];
  }
  const weights = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = 0.02 * normal();
    weights.set(name, { shape, data });
  }
  return weights;
}

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const headerLength = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  const base = 8 + headerLength;
  const weights = new Map();
  for (const [rawName, info] of Object.entries(header)) {
    if (rawName === '__metadata__') continue;
    const name = rawName.replace(/^bert\./, '');
    const [begin, end] = info.data_offsets;
    const bytes = buf.subarray(base + begin, base + end);
    const count = info.shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(count);
    if (info.dtype === 'F32') {
      new Uint8Array(data.buffer).set(bytes);
    } else if (info.dtype === 'F16' || info.dtype === 'BF16') {
      for (let i = 0; i < count; i++) {
        const v = bytes.readUInt16LE(2 * i);
        data[i] = info.dtype === 'F16' ? halfToFloat(v) : new Float32Array(new Uint32Array([v << 16]).buffer)[0];
      }
    } else {
      continue; // e.g. int64 position_ids buffers: not needed
    }
    weights.set(name, { shape: info.shape, data });
  }
  return weights;
}

// ---- graph ----------------------------------------------------------------------------------------------

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT32 = onnx.TensorProto.DataType.INT32;
const A = onnx.AttributeProto.AttributeType;

function bytesOf(typed) {
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

class GraphBuilder {
  constructor() {
    this.nodes = [];
    this.initializers = [];
    this.names = new Set();
  }

  init(name, dataType, dims, typed) {
    if (this.names.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.names.add(name);
    this.initializers.push({ name, dataType, dims, rawData: bytesOf(typed) });
    return name;
  }

  f32(name, dims, values) {
    return this.init(name, FLOAT, dims, values instanceof Float32Array ? values : Float32Array.from(values));
  }

  i64(name, dims, values) {
    return this.init(name, INT64, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  // Adds a node named like torch's exporter does ("/encoder/layer.0/attention/self/query/MatMul"); returns
  // its output name (or names, when outputs > 1).
  op(name, opType, inputs, attrs = {}, outputs = 1, domain = '') {
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    const attribute = Object.entries(attrs).map(([key, v]) => {
      if (typeof v === 'number' && Number.isInteger(v) && !(key === 'epsilon' || key === 'min' || key === 'max')) {
        return { name: key, type: A.INT, i: v };
      }
      if (typeof v === 'number') return { name: key, type: A.FLOAT, f: v };
      if (Array.isArray(v)) return { name: key, type: A.INTS, ints: v };
      if (v && v.tensor) return { name: key, type: A.TENSOR, t: v.tensor };
      throw new Error(`attribute ${key}`);
    });
    this.nodes.push({ name, opType, domain, input: inputs, output: outs, attribute });
    return outputs === 1 ? outs[0] : outs;
  }
}

function valueInfo(name, elemType, dims) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function transpose2d(data, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function buildModel(config, weights, fused) {
  const h = config.hidden_size;
  const heads = config.num_attention_heads;
  const headSize = h / heads;
  const inter = config.intermediate_size;
  const eps = config.layer_norm_eps;
  if (!Number.isInteger(headSize)) throw new Error('hidden_size must be a multiple of num_attention_heads');
  if ((config.hidden_act ?? 'gelu') !== 'gelu') throw new Error(`hidden_act ${config.hidden_act}: only erf gelu`);
  if ((config.position_embedding_type ?? 'absolute') !== 'absolute') throw new Error('only absolute positions');

  const g = new GraphBuilder();
  const w = (name, shape) => {
    const t = weights.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    if (shape && t.shape.join(',') !== shape.join(',')) {
      throw new Error(`${name}: shape [${t.shape}] but expected [${shape}]`);
    }
    if (!g.names.has(name)) g.f32(name, t.shape, t.data);
    return name;
  };
  // nn.Linear exports as MatMul(x, Wᵀ) with Wᵀ a [in, out] initializer, then Add(·, bias).
  const transposedLinearWeight = (module, inDim, outDim) => {
    const t = weights.get(`${module}.weight`);
    if (!t || t.shape.join(',') !== [outDim, inDim].join(',')) throw new Error(`bad weight ${module}.weight`);
    return transpose2d(t.data, outDim, inDim);
  };
  const linear = (prefix, x, module, inDim, outDim) => {
    const wt = g.f32(`onnx::MatMul_${module}.weight`, [inDim, outDim], transposedLinearWeight(module, inDim, outDim));
    const mm = g.op(`${prefix}/MatMul`, 'MatMul', [x, wt]);
    return g.op(`${prefix}/Add`, 'Add', [mm, w(`${module}.bias`, [outDim])]);
  };
  const layerNorm = (prefix, x, module) =>
    g.op(`${prefix}/LayerNormalization`, 'LayerNormalization',
      [x, w(`${module}.weight`, [h]), w(`${module}.bias`, [h])], { axis: -1, epsilon: eps });

  // Shared constants (torch exports them as Constant nodes; ORT turns those into initializers).
  const c = {
    one: g.f32('/Constant_one', [], [1]),
    half: g.f32('/Constant_half', [], [0.5]),
    sqrt2: g.f32('/Constant_sqrt2', [], [Math.SQRT2]),
    sqrtHead: g.f32('/Constant_sqrt_head_size', [], [Math.sqrt(headSize)]),
    finfoMin: g.f32('/Constant_finfo_min', [], [-3.4028234663852886e38]),
    headsShape: g.i64('/Constant_heads_shape', [4], [0, 0, heads, headSize]),
    hiddenShape: g.i64('/Constant_hidden_shape', [3], [0, 0, h]),
    axis0: g.i64('/Constant_axes_0', [1], [0]),
    axis1: g.i64('/Constant_axes_1', [1], [1]),
    axis2: g.i64('/Constant_axes_2', [1], [2]),
    axisLast: g.i64('/Constant_axes_last', [1], [-1]),
    index1: g.i64('/Constant_index_1', [1], [1]),
    positionIds: g.i64('embeddings.position_ids', [1, config.max_position_embeddings],
      Array.from({ length: config.max_position_embeddings }, (_, i) => i)),
  };

  // Embeddings: word + token type (all zeros) + absolute position, then LayerNorm.
  const idsShape = g.op('/embeddings/Shape', 'Shape', ['input_ids']);
  const seqLen = g.op('/embeddings/Gather', 'Gather', [idsShape, c.index1], { axis: 0 });
  const positionIds = g.op('/embeddings/Slice', 'Slice', [c.positionIds, c.axis0, seqLen, c.axis1]);
  const tokenTypeIds = g.op('/embeddings/ConstantOfShape', 'ConstantOfShape', [idsShape],
    { value: { tensor: { dims: [1], dataType: INT64, rawData: bytesOf(new BigInt64Array([0n])) } } });
  const words = g.op('/embeddings/word_embeddings/Gather', 'Gather',
    [w('embeddings.word_embeddings.weight', [config.vocab_size, h]), 'input_ids'], { axis: 0 });
  const tokenTypes = g.op('/embeddings/token_type_embeddings/Gather', 'Gather',
    [w('embeddings.token_type_embeddings.weight'), tokenTypeIds], { axis: 0 });
  const sum1 = g.op('/embeddings/Add', 'Add', [words, tokenTypes]);
  const positions = g.op('/embeddings/position_embeddings/Gather', 'Gather',
    [w('embeddings.position_embeddings.weight'), positionIds], { axis: 0 });
  const sum2 = g.op('/embeddings/Add_1', 'Add', [sum1, positions]);
  let hidden = layerNorm('/embeddings/LayerNorm', sum2, 'embeddings.LayerNorm');
  // ONNX shape inference loses the symbolic dims through ConstantOfShape/Slice and broadcasting Adds; state
  // them, as torch.onnx.export's own value_info does, so that shape-dependent fusions (SkipLayerNorm) can match.
  const valueInfos = [valueInfo(hidden, FLOAT, ['batch_size', 'sequence_length', h])];

  let extendedMask = null;
  let maskInt32 = null;
  if (!fused) {
    // Extended attention mask: (1 - mask[:, None, None, :]) * finfo(float32).min.
    const m1 = g.op('/Unsqueeze', 'Unsqueeze', ['attention_mask', c.axis1]);
    const m2 = g.op('/Unsqueeze_1', 'Unsqueeze', [m1, c.axis2]);
    const mf = g.op('/Cast', 'Cast', [m2], { to: FLOAT });
    const inv = g.op('/Sub', 'Sub', [c.one, mf]);
    extendedMask = g.op('/Mul', 'Mul', [inv, c.finfoMin]);
  } else {
    maskInt32 = g.op('/Cast', 'Cast', ['attention_mask'], { to: INT32 });
  }

  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `/encoder/layer.${l}`;
    const m = `encoder.layer.${l}`;
    let merged;
    if (fused) {
      // What onnxruntime.transformers.optimizer makes of the self-attention block: one com.microsoft
      // Attention node with the Q, K and V weights side by side ([H, 3H]) and the raw 2-D int32 mask.
      const wq = transposedLinearWeight(`${m}.attention.self.query`, h, h);
      const wk = transposedLinearWeight(`${m}.attention.self.key`, h, h);
      const wv = transposedLinearWeight(`${m}.attention.self.value`, h, h);
      const qkv = new Float32Array(h * 3 * h);
      for (let r = 0; r < h; r++) {
        qkv.set(wq.subarray(r * h, (r + 1) * h), r * 3 * h);
        qkv.set(wk.subarray(r * h, (r + 1) * h), r * 3 * h + h);
        qkv.set(wv.subarray(r * h, (r + 1) * h), r * 3 * h + 2 * h);
      }
      const bias = new Float32Array(3 * h);
      ['query', 'key', 'value'].forEach((n, i) => bias.set(weights.get(`${m}.attention.self.${n}.bias`).data, i * h));
      const qkvW = g.f32(`${m}.attention.self.qkv.weight`, [h, 3 * h], qkv);
      const qkvB = g.f32(`${m}.attention.self.qkv.bias`, [3 * h], bias);
      merged = g.op(`${p}/attention/self/Attention`, 'Attention', [hidden, qkvW, qkvB, maskInt32],
        { num_heads: heads }, 1, 'com.microsoft');
    } else {
      const heads4 = (name, x, perm) =>
        g.op(`${p}/attention/self/${name}/Transpose`, 'Transpose',
          [g.op(`${p}/attention/self/${name}/Reshape`, 'Reshape', [x, c.headsShape])], { perm });
      const q = heads4('query', linear(`${p}/attention/self/query`, hidden, `${m}.attention.self.query`, h, h), [0, 2, 1, 3]);
      const k = heads4('key', linear(`${p}/attention/self/key`, hidden, `${m}.attention.self.key`, h, h), [0, 2, 3, 1]);
      const v = heads4('value', linear(`${p}/attention/self/value`, hidden, `${m}.attention.self.value`, h, h), [0, 2, 1, 3]);
      const scores = g.op(`${p}/attention/self/MatMul`, 'MatMul', [q, k]);
      const scaled = g.op(`${p}/attention/self/Div`, 'Div', [scores, c.sqrtHead]);
      const masked = g.op(`${p}/attention/self/Add`, 'Add', [scaled, extendedMask]);
      const probs = g.op(`${p}/attention/self/Softmax`, 'Softmax', [masked], { axis: -1 });
      const context = g.op(`${p}/attention/self/MatMul_1`, 'MatMul', [probs, v]);
      const contextT = g.op(`${p}/attention/self/Transpose_3`, 'Transpose', [context], { perm: [0, 2, 1, 3] });
      merged = g.op(`${p}/attention/self/Reshape_3`, 'Reshape', [contextT, c.hiddenShape]);
    }
    const attnOut = linear(`${p}/attention/output/dense`, merged, `${m}.attention.output.dense`, h, h);
    const res1 = g.op(`${p}/attention/output/Add`, 'Add', [attnOut, hidden]);
    const ln1 = layerNorm(`${p}/attention/output/LayerNorm`, res1, `${m}.attention.output.LayerNorm`);
    const up = linear(`${p}/intermediate/dense`, ln1, `${m}.intermediate.dense`, h, inter);
    // GELU as torch exports F.gelu (approximate='none'): x * 0.5 * (1 + erf(x / sqrt(2))).
    const gp = `${p}/intermediate/intermediate_act_fn`;
    const erf = g.op(`${gp}/Erf`, 'Erf', [g.op(`${gp}/Div`, 'Div', [up, c.sqrt2])]);
    const gelu = g.op(`${gp}/Mul_1`, 'Mul',
      [g.op(`${gp}/Mul`, 'Mul', [up, g.op(`${gp}/Add`, 'Add', [erf, c.one])]), c.half]);
    const down = linear(`${p}/output/dense`, gelu, `${m}.output.dense`, inter, h);
    const res2 = g.op(`${p}/output/Add`, 'Add', [down, ln1]);
    hidden = layerNorm(`${p}/output/LayerNorm`, res2, `${m}.output.LayerNorm`);
  }

  // sentence-transformers Pooling (mean over the mask) and Normalize (x / max(||x||, 1e-12)).
  const maskF = g.op('/pooling/Cast', 'Cast', [g.op('/pooling/Unsqueeze', 'Unsqueeze', ['attention_mask', c.axisLast])], { to: FLOAT });
  const summed = g.op('/pooling/ReduceSum', 'ReduceSum', [g.op('/pooling/Mul', 'Mul', [hidden, maskF]), c.axis1], { keepdims: 0 });
  const counts = g.op('/pooling/ReduceSum_1', 'ReduceSum', [maskF, c.axis1], { keepdims: 0 });
  const clamped = g.op('/pooling/Clip', 'Clip', [counts, g.f32('/Constant_1e-9', [], [1e-9])]);
  const mean = g.op('/pooling/Div', 'Div', [summed, clamped]);
  const norm = g.op('/normalize/ReduceL2', 'ReduceL2', [mean], { axes: [1], keepdims: 1 });
  const normClamped = g.op('/normalize/Clip', 'Clip', [norm, g.f32('/Constant_1e-12', [], [1e-12])]);
  const embedding = g.op('/normalize/Div', 'Div', [mean, normClamped]);
  // Name the graph output.
  g.nodes.push({ name: '/Identity', opType: 'Identity', input: [embedding], output: ['sentence_embedding'], attribute: [] });

  const used = new Set(g.nodes.flatMap((n) => n.input));
  const initializers = g.initializers.filter((t) => used.has(t.name));

  return {
    irVersion: 8,
    producerName: 'logclf bench/onnxruntime/make-model.mjs',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 17 }, ...(fused ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'BertModel_mean_pooling_normalize',
      node: g.nodes,
      initializer: initializers,
      input: [
        valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']),
        valueInfo('attention_mask', INT64, ['batch_size', 'sequence_length']),
      ],
      output: [valueInfo('sentence_embedding', FLOAT, ['batch_size', h])],
      valueInfo: valueInfos,
    },
  };
}

// ---- main -----------------------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
let config;
let weights;
let from;
if (args.safetensors) {
  const configFile = args.config ?? path.join(path.dirname(args.safetensors), 'config.json');
  config = { ...E5_SMALL_V2, type_vocab_size: 2, ...JSON.parse(fs.readFileSync(configFile, 'utf8')) };
  weights = readSafetensors(args.safetensors);
  from = `${args.safetensors} (config ${configFile})`;
} else {
  config = { ...E5_SMALL_V2 };
  weights = randomWeights(config, args.seed);
  from = `random normal(0, 0.02), seed ${args.seed}`;
}
const model = buildModel(config, weights, args.fused);
const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
const tmp = `${args.out}.tmp-${process.pid}`;
fs.writeFileSync(tmp, bytes);
fs.renameSync(tmp, args.out);
console.log(
  `wrote ${args.out}: ${(bytes.length / 1e6).toFixed(1)} MB, opset 17${args.fused ? ' + com.microsoft Attention' : ''}, ${model.graph.node.length} nodes; ` +
    `BertModel ${config.num_hidden_layers} layers, hidden ${config.hidden_size}, ${config.num_attention_heads} heads, ` +
    `intermediate ${config.intermediate_size}, vocab ${config.vocab_size}, eps ${config.layer_norm_eps}; weights: ${from}`,
);
