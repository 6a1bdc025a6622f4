// Dynamic int8 quantization of an ONNX model, as ONNX Runtime's `quantize_dynamic` does it: every MatMul
// and Gemm whose weight is a constant initializer gets int8 weights with one scale per output column
// (symmetric, zero point 0), and its activation is quantized to uint8 at run time (one scale per tensor).
//
// Two forms of the same arithmetic:
//   'integer-ops': DynamicQuantizeLinear → MatMulInteger → Cast → Mul(activation scale × weight scales),
//                  standard ONNX ops; onnxruntime fuses them into its int8 kernels at load.
//   'contrib':     com.microsoft DynamicQuantizeMatMul, one node (onnxruntime only).
// Gemm: transB is folded into the stored weight, alpha into the scales, beta·C into a following Add.
// Gemm with transA, batched (3-D+) weights and weights that are also graph inputs stay float32.
// Weight bits: 8, or 7 (±63) for x86-64 CPUs without VNNI, whose uint8×int8 kernels add pairs of products in
// 16 bits and can saturate (ONNX Runtime's `reduce_range` advice).
import path from 'node:path';
import {
  ExternalDataWriter, OnnxFileError, TensorReader, elementCount, encodeModel, onnx, readModel,
  type ModelProto, type NodeProto, type TensorProto,
} from './onnx-tensors.js';
import { writeFileSync } from 'node:fs';

/** Bump when the quantized graph changes, so derived folders are made again. */
export const QUANTIZER_VERSION = 1;

export type Int8Form = 'integer-ops' | 'contrib';
export const DEFAULT_INT8_FORM: Int8Form = 'integer-ops';
export type WeightBits = 7 | 8;

export interface QuantizeOptions {
  form?: Int8Form;
  weightBits?: WeightBits;
}

export interface QuantizeSummary {
  /** MatMul/Gemm nodes rewritten to int8. */
  quantized: number;
  /** Weighted MatMul/Gemm nodes left in float32, and why. */
  kept: { node: string; reason: string }[];
  /** Bytes of the float32 weights replaced, and of their int8 replacement (weights + scales). */
  floatWeightBytes: number;
  int8WeightBytes: number;
}

const T = onnx.TensorProto.DataType;

interface Plan {
  weight: TensorProto;
  /** The stored weight is [N, K] (Gemm transB). */
  transposed: boolean;
  alpha: number;
  /** Gemm's C and beta, when there is a C. */
  bias: { input: string; beta: number } | null;
}

interface QuantizedWeight {
  name: string;
  scalesName: string;
  columns: number;
}

/**
 * Writes `target` (and `target`.data beside it, holding the large initializers) as the int8 form of the
 * model at `source`. The float32 weights are read and quantized one at a time.
 */
export function quantizeOnnxFile(source: string, target: string, options: QuantizeOptions = {}): QuantizeSummary {
  const form = options.form ?? DEFAULT_INT8_FORM;
  const weightBits = options.weightBits ?? 8;
  const model = readModel(source);
  const graph = model.graph;
  if (!graph) throw new OnnxFileError(`${source} has no graph`);
  const opset = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset !== undefined && opset !== null && Number(opset) < 11) {
    throw new OnnxFileError(`${source} uses ONNX opset ${Number(opset)}; int8 quantization needs 11 or later`);
  }
  const reader = new TensorReader(path.dirname(source));
  const dataName = `${path.basename(target)}.data`;
  const writer = new ExternalDataWriter(path.join(path.dirname(target), dataName), dataName);
  const summary: QuantizeSummary = { quantized: 0, kept: [], floatWeightBytes: 0, int8WeightBytes: 0 };
  try {
    const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const graphInputs = new Set((graph.input ?? []).map((i) => i.name));
    const constant = (name: string | undefined): TensorProto | undefined =>
      name && !graphInputs.has(name) ? initializers.get(name) : undefined;

    const added: TensorProto[] = [];
    const addTensor = (name: string, dataType: number, dims: number[], bytes: Uint8Array): string => {
      const tensor: TensorProto = { name, dataType, dims };
      writer.store(tensor, bytes);
      added.push(tensor);
      return name;
    };
    const weights = new Map<string, QuantizedWeight>();
    const activations = new Map<string, [string, string, string]>();
    const nodes: NodeProto[] = [];
    let zeroPoint: string | null = null;

    for (const node of graph.node ?? []) {
      const plan = planFor(node, constant);
      if (typeof plan === 'string') {
        if (plan) summary.kept.push({ node: node.name || node.output?.[0] || node.opType || '?', reason: plan });
        nodes.push(node);
        continue;
      }
      const output = node.output![0];
      const prefix = `int8/${output}`;
      const key = `${plan.weight.name}|${plan.transposed}|${plan.alpha}`;
      let weight = weights.get(key);
      if (!weight) {
        const floats = reader.floats(plan.weight);
        const [rows, cols] = (plan.weight.dims ?? []).map(Number);
        const { values, scales, k, n } = quantizeColumns(floats, rows, cols, { transposed: plan.transposed, alpha: plan.alpha, bits: weightBits });
        const name = `int8/${plan.weight.name}${plan.transposed ? '/T' : ''}${plan.alpha !== 1 ? `/x${plan.alpha}` : ''}`;
        addTensor(name, T.INT8, [k, n], new Uint8Array(values.buffer));
        addTensor(`${name}/scale`, T.FLOAT, [n], new Uint8Array(scales.buffer));
        weight = { name, scalesName: `${name}/scale`, columns: n };
        weights.set(key, weight);
        summary.floatWeightBytes += floats.byteLength;
        summary.int8WeightBytes += values.byteLength + scales.byteLength;
      }
      const product = plan.bias ? `${prefix}/matmul` : output;
      const activation = node.input![0];
      if (form === 'contrib') {
        nodes.push(makeNode('DynamicQuantizeMatMul', [activation, weight.name, weight.scalesName], [product], `${prefix}/DynamicQuantizeMatMul`, 'com.microsoft'));
      } else {
        let quantized = activations.get(activation);
        if (!quantized) {
          const base = `int8/${activation}`;
          quantized = [`${base}/quantized`, `${base}/scale`, `${base}/zero_point`];
          nodes.push(makeNode('DynamicQuantizeLinear', [activation], quantized, `${base}/DynamicQuantizeLinear`));
          activations.set(activation, quantized);
        }
        zeroPoint ??= addTensor('int8/weight_zero_point', T.INT8, [], new Uint8Array(1));
        nodes.push(
          makeNode('MatMulInteger', [quantized[0], weight.name, quantized[2], zeroPoint], [`${prefix}/int32`], `${prefix}/MatMulInteger`),
          makeNode('Cast', [`${prefix}/int32`], [`${prefix}/float`], `${prefix}/Cast`, '', [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }]),
          makeNode('Mul', [quantized[1], weight.scalesName], [`${prefix}/scale`], `${prefix}/ScaleProduct`),
          makeNode('Mul', [`${prefix}/float`, `${prefix}/scale`], [product], `${prefix}/Rescale`),
        );
      }
      if (plan.bias) {
        let bias = plan.bias.input;
        if (plan.bias.beta !== 1) {
          const c = constant(bias);
          if (c && c.dataType === T.FLOAT) {
            bias = addTensor(`${prefix}/bias`, T.FLOAT, (c.dims ?? []).map(Number), new Uint8Array(reader.floats(c).map((x) => x * plan.bias!.beta).buffer));
          } else {
            const beta = addTensor(`${prefix}/beta`, T.FLOAT, [], new Uint8Array(new Float32Array([plan.bias.beta]).buffer));
            nodes.push(makeNode('Mul', [bias, beta], [`${prefix}/bias`], `${prefix}/Beta`));
            bias = `${prefix}/bias`;
          }
        }
        nodes.push(makeNode('Add', [product, bias], [output], `${prefix}/Bias`));
      }
      summary.quantized++;
    }

    graph.node = nodes;
    const used = referencedNames(graph.node);
    for (const o of graph.output ?? []) used.add(o.name ?? '');
    const kept = (graph.initializer ?? []).filter((t) => used.has(t.name ?? ''));
    for (const t of kept) writer.store(t, reader.bytes(t));
    graph.initializer = [...kept, ...added.filter((t) => used.has(t.name ?? ''))];
    if (form === 'contrib' && !model.opsetImport?.some((o) => o.domain === 'com.microsoft')) {
      model.opsetImport = [...(model.opsetImport ?? []), { domain: 'com.microsoft', version: 1 }];
    }
  } finally {
    writer.close();
    reader.close();
  }
  writeFileSync(target, encodeModel(model as ModelProto));
  return summary;
}

/** What to do with a node: a Plan to quantize it, a reason it stays float32, or '' when it has no weight. */
function planFor(node: NodeProto, constant: (name: string | undefined) => TensorProto | undefined): Plan | string {
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm') return '';
  if (node.domain && node.domain !== 'ai.onnx') return '';
  const inputs = node.input ?? [];
  const weight = constant(inputs[1]);
  if (!weight) return constant(inputs[0]) ? 'its constant is the first input' : '';
  if (weight.dataType !== T.FLOAT) return 'its weight is not float32';
  if ((weight.dims ?? []).length !== 2) return `its weight has ${(weight.dims ?? []).length} dimensions, not 2`;
  if (elementCount(weight) === 0) return 'its weight is empty';
  if (node.opType === 'MatMul') return { weight, transposed: false, alpha: 1, bias: null };
  const attribute = (name: string, fallback: number): number => {
    const a = node.attribute?.find((x) => x.name === name);
    if (!a) return fallback;
    return a.type === onnx.AttributeProto.AttributeType.FLOAT ? (a.f ?? fallback) : Number(a.i ?? fallback);
  };
  if (attribute('transA', 0) !== 0) return 'Gemm with transA';
  const c = inputs[2];
  return {
    weight,
    transposed: attribute('transB', 0) !== 0,
    alpha: attribute('alpha', 1),
    bias: c ? { input: c, beta: attribute('beta', 1) } : null,
  };
}

/**
 * Symmetric int8 per output column of a [K, N] weight (stored [N, K] when `transposed`): scale = max|w| / 127
 * (63 with 7 bits), each scale multiplied by `alpha`. Returns the values laid out [K, N].
 */
export function quantizeColumns(w: Float32Array, rows: number, cols: number,
  { transposed = false, alpha = 1, bits = 8 }: { transposed?: boolean; alpha?: number; bits?: WeightBits } = {}):
  { values: Int8Array; scales: Float32Array; k: number; n: number } {
  const limit = 2 ** (bits - 1) - 1;
  const [k, n] = transposed ? [cols, rows] : [rows, cols];
  const at = transposed ? (r: number, c: number): number => c * k + r : (r: number, c: number): number => r * n + c;
  const maxAbs = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const v = Math.abs(w[at(r, c)]);
      if (v > maxAbs[c]) maxAbs[c] = v;
      else if (Number.isNaN(v)) throw new OnnxFileError('a weight holds NaN');
    }
  }
  const step = Float32Array.from(maxAbs, (m) => (m > 0 && Number.isFinite(m) ? m / limit : 1));
  if (maxAbs.some((m) => !Number.isFinite(m))) throw new OnnxFileError('a weight holds an infinite value');
  const values = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      values[r * n + c] = Math.max(-limit, Math.min(limit, Math.round(w[at(r, c)] / step[c])));
    }
  }
  return { values, scales: step.map((s) => s * alpha), k, n };
}

function makeNode(opType: string, input: string[], output: string[], name: string, domain = '', attribute: NodeProto['attribute'] = []): NodeProto {
  return { opType, input, output, name, domain, attribute };
}

/** Every tensor name a node reads, subgraphs (If, Loop, Scan bodies) included. */
function referencedNames(nodes: NodeProto[]): Set<string> {
  const names = new Set<string>();
  const visit = (list: NodeProto[]): void => {
    for (const n of list) {
      for (const i of n.input ?? []) names.add(i);
      for (const a of n.attribute ?? []) {
        if (a.g?.node) visit(a.g.node);
        for (const g of a.graphs ?? []) visit(g.node ?? []);
      }
    }
  };
  visit(nodes);
  return names;
}
