#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node, CPU) on inputs
// stored as ONNX TensorProto files, prints its outputs and the median latency,
// and optionally compares them with reference outputs.
//
//   node scripts/ort_run.js MODEL.onnx INPUT.pb [INPUT2.pb ...] [options]
//     --threads N            intra-op threads (default 1)
//     --inter-threads N      inter-op threads (parallel mode; default 1)
//     --mode sequential|parallel   ORT execution mode (default sequential)
//     --ort-opt all|extended|basic|disabled   ORT graph optimisation level (default all)
//     --runs K               timed runs (default 10); --warmup W untimed runs first (default 2)
//     --out PREFIX           write output i as PREFIX<i>.pb (TensorProto)
//     --compare REF.pb ...   compare output i with REF i (--atol 1e-4, --rtol 1e-3); exit 1 on mismatch
//     --json                 print one JSON object instead of text (with timesMs: every timed run, in order)
//
// Setup: `npm install --ignore-scripts` in the repository root (the CPU
// binary ships inside the onnxruntime-node package; its install script only
// downloads optional GPU parts). No other npm package is used: the
// TensorProto reader/writer below is a minimal protobuf codec.
'use strict';

const fs = require('fs');
const path = require('path');

// ------------------------------------------------------------------ protobuf

// TensorProto fields: 1 dims (int64, repeated), 2 data_type, 4 float_data,
// 5 int32_data, 7 int64_data, 8 name, 9 raw_data, 10 double_data,
// 11 uint64_data, 13 external_data, 14 data_location.
function readVarint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 70n) throw new Error('varint too long');
  }
}

function toInt64(u) { return BigInt.asIntN(64, u); }

function parseTensorProto(buf) {
  const t = { dims: [], dataType: 0, name: '', raw: null, floats: [], int32s: [], int64s: [], doubles: [], uint64s: [], external: false };
  let pos = 0;
  const varints = (wire, out, conv) => {  // packed (wire 2) or not (wire 0)
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      out.push(conv(v));
    } else {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      while (pos < end) {
        let v;
        [v, pos] = readVarint(buf, pos);
        out.push(conv(v));
      }
    }
  };
  const fixed = (wire, size, out, read) => {
    if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      for (; pos < end; pos += size) out.push(read(pos));
    } else {
      out.push(read(pos));
      pos += size;
    }
  };
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    switch (field) {
      case 1: varints(wire, t.dims, (v) => Number(toInt64(v))); break;
      case 2: { let v; [v, pos] = readVarint(buf, pos); t.dataType = Number(v); break; }
      case 4: fixed(wire, 4, t.floats, (p) => buf.readFloatLE(p)); break;
      case 5: varints(wire, t.int32s, (v) => Number(BigInt.asIntN(32, v))); break;
      case 7: varints(wire, t.int64s, (v) => toInt64(v)); break;
      case 10: fixed(wire, 8, t.doubles, (p) => buf.readDoubleLE(p)); break;
      case 11: varints(wire, t.uint64s, (v) => v); break;
      case 8: case 9: case 13: {
        let len;
        [len, pos] = readVarint(buf, pos);
        const bytes = buf.subarray(pos, pos + Number(len));
        pos += Number(len);
        if (field === 8) t.name = bytes.toString('utf8');
        else if (field === 9) t.raw = Buffer.from(bytes);
        else t.external = true;
        break;
      }
      case 14: { let v; [v, pos] = readVarint(buf, pos); if (Number(v) === 1) t.external = true; break; }
      default:  // skip unknown fields
        if (wire === 0) { [, pos] = readVarint(buf, pos); }
        else if (wire === 1) pos += 8;
        else if (wire === 5) pos += 4;
        else if (wire === 2) { let len; [len, pos] = readVarint(buf, pos); pos += Number(len); }
        else throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  if (t.external) throw new Error('tensors with external data are not supported');
  return t;
}

function writeVarint(out, v) {
  let x = BigInt.asUintN(64, BigInt(v));
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
}

function encodeTensorProto(name, dataType, dims, raw) {
  const head = [];
  if (dims.length) {  // field 1, packed
    const packed = [];
    for (const d of dims) writeVarint(packed, d);
    head.push(0x0a);
    writeVarint(head, packed.length);
    head.push(...packed);
  }
  head.push(0x10);  // field 2
  writeVarint(head, dataType);
  const nameBytes = Buffer.from(name, 'utf8');
  head.push(0x42);  // field 8
  writeVarint(head, nameBytes.length);
  const rawHead = [0x4a];  // field 9
  writeVarint(rawHead, raw.length);
  return Buffer.concat([Buffer.from(head), nameBytes, Buffer.from(rawHead), raw]);
}

// ONNX data_type -> [ort type, TypedArray]
const TYPES = {
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array], 4: ['uint16', Uint16Array],
  5: ['int16', Int16Array], 6: ['int32', Int32Array], 7: ['int64', BigInt64Array], 9: ['bool', Uint8Array],
  10: ['float16', Uint16Array], 11: ['float64', Float64Array], 12: ['uint32', Uint32Array], 13: ['uint64', BigUint64Array],
};
const ONNX_TYPE_OF = Object.fromEntries(Object.entries(TYPES).map(([k, [name]]) => [name, Number(k)]));

function tensorProtoToArray(t) {
  const ty = TYPES[t.dataType];
  if (!ty) throw new Error(`TensorProto data_type ${t.dataType} is not supported`);
  const [, Arr] = ty;
  const n = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    if (t.raw.length !== n * Arr.BYTES_PER_ELEMENT) throw new Error(`raw_data has ${t.raw.length} bytes, expected ${n * Arr.BYTES_PER_ELEMENT}`);
    data = new Arr(n);
    new Uint8Array(data.buffer).set(t.raw);
  } else {
    const src = { 1: t.floats, 11: t.doubles, 7: t.int64s, 12: t.uint64s, 13: t.uint64s }[t.dataType] || t.int32s;
    if (src.length !== n) throw new Error(`tensor has ${src.length} values, expected ${n}`);
    data = Arr.from(src, (v) => (Arr === BigInt64Array || Arr === BigUint64Array ? BigInt(v) : Number(v)));
  }
  return { type: ty[0], data, dims: t.dims, name: t.name };
}

function readTensorFile(file) { return tensorProtoToArray(parseTensorProto(fs.readFileSync(file))); }

// ------------------------------------------------------------------ main

function parseArgs(argv) {
  const a = { files: [], threads: 1, interThreads: 1, mode: 'sequential', ortOpt: 'all', runs: 10, warmup: 2,
              out: null, compare: [], atol: 1e-4, rtol: 1e-3, json: false };
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i]; };
    if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--inter-threads') a.interThreads = parseInt(next(), 10);
    else if (k === '--mode') a.mode = next();
    else if (k === '--ort-opt') a.ortOpt = next();
    else if (k === '--runs') a.runs = parseInt(next(), 10);
    else if (k === '--warmup') a.warmup = parseInt(next(), 10);
    else if (k === '--out') a.out = next();
    else if (k === '--atol') a.atol = parseFloat(next());
    else if (k === '--rtol') a.rtol = parseFloat(next());
    else if (k === '--json') a.json = true;
    else if (k === '--compare') { while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) a.compare.push(argv[++i]); }
    else if (k === '-h' || k === '--help') usage();
    else if (k.startsWith('--')) usage(`unknown option ${k}`);
    else a.files.push(k);
  }
  if (a.files.length < 1) usage('MODEL.onnx is required');
  if (!['sequential', 'parallel'].includes(a.mode)) usage('--mode is sequential or parallel');
  if (!(a.runs >= 1) || !(a.threads >= 1)) usage('--runs and --threads must be >= 1');
  return a;
}

function usage(msg) {
  if (msg) console.error(`ort_run.js: ${msg}`);
  console.error('usage: node scripts/ort_run.js MODEL.onnx INPUT.pb... [--threads N] [--mode sequential|parallel] ' +
                '[--runs K] [--warmup W] [--ort-opt LEVEL] [--out PREFIX] [--compare REF.pb...] [--atol A] [--rtol R] [--json]');
  process.exit(msg ? 2 : 0);
}

function compareArrays(got, want, atol, rtol) {
  const r = { ok: true, maxAbs: 0, maxRel: 0, bad: 0, first: -1 };
  if (got.length !== want.length) return { ok: false, error: `size ${got.length} != ${want.length}` };
  for (let i = 0; i < want.length; ++i) {
    const g = Number(got[i]);
    const w = Number(want[i]);
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (Number.isNaN(g) !== Number.isNaN(w)) { r.bad++; if (r.first < 0) r.first = i; }
      continue;
    }
    const d = Math.abs(g - w);
    r.maxAbs = Math.max(r.maxAbs, d);
    if (w !== 0) r.maxRel = Math.max(r.maxRel, d / Math.abs(w));
    if (d > atol + rtol * Math.abs(w)) { r.bad++; if (r.first < 0) r.first = i; }
  }
  r.ok = r.bad === 0;
  return r;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.error('ort_run.js: cannot load onnxruntime-node; run `npm install --ignore-scripts` in the repository root');
    throw e;
  }
  const [modelPath, ...inputFiles] = args.files;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: args.threads,
    interOpNumThreads: args.interThreads,
    executionMode: args.mode,
    graphOptimizationLevel: args.ortOpt,
  });
  if (inputFiles.length !== session.inputNames.length)
    throw new Error(`${path.basename(modelPath)} has ${session.inputNames.length} input(s) (${session.inputNames.join(', ')}), got ${inputFiles.length} file(s)`);
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const t = readTensorFile(inputFiles[i]);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  });

  let outputs;
  for (let i = 0; i < args.warmup; ++i) outputs = await session.run(feeds);
  const times = [];
  for (let i = 0; i < args.runs; ++i) {
    const t0 = process.hrtime.bigint();
    outputs = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const timesInOrder = times.slice();
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;

  const result = { model: modelPath, threads: args.threads, mode: args.mode, ortOpt: args.ortOpt, runs: args.runs,
                   medianMs: median, minMs: times[0], timesMs: timesInOrder, outputs: [], ok: true };
  session.outputNames.forEach((name, i) => {
    const t = outputs[name];
    const o = { name, type: t.type, dims: Array.from(t.dims), head: Array.from(t.data.slice(0, 5), Number) };
    if (args.out) {
      const raw = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      fs.writeFileSync(`${args.out}${i}.pb`, encodeTensorProto(name, ONNX_TYPE_OF[t.type], Array.from(t.dims), raw));
    }
    if (i < args.compare.length) {
      const ref = readTensorFile(args.compare[i]);
      const c = compareArrays(t.data, ref.data, args.atol, args.rtol);
      if (JSON.stringify(ref.dims) !== JSON.stringify(o.dims)) { c.ok = false; c.error = `shape [${o.dims}] != [${ref.dims}]`; }
      o.compare = c;
      result.ok = result.ok && c.ok;
    }
    result.outputs.push(o);
  });
  await session.release?.();

  if (args.json) {
    console.log(JSON.stringify(result));
  } else {
    for (const o of result.outputs) {
      let line = `${o.name}: ${o.type} [${o.dims.join(', ')}] ${o.head.map((v) => v.toPrecision(6)).join(' ')}${o.dims.length ? ' ...' : ''}`;
      if (o.compare) line += o.compare.ok ? `  OK (max abs ${o.compare.maxAbs.toExponential(2)})`
                                          : `  MISMATCH (${o.compare.error || `${o.compare.bad} elements, max abs ${o.compare.maxAbs.toExponential(2)}`})`;
      console.log(line);
    }
    console.log(`median ${median.toFixed(3)} ms, min ${times[0].toFixed(3)} ms over ${args.runs} runs ` +
                `(${args.threads} intra-op thread(s), ${args.mode}, ORT optimisation ${args.ortOpt}, onnxruntime-node ${ort.env.versions?.common ?? ''})`);
  }
  if (!result.ok) process.exitCode = 1;
}

main().catch((e) => { console.error(`ort_run.js: ${e.message}`); process.exit(2); });
