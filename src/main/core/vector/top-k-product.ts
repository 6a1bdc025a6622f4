// Top-k inner products of many query rows against many base rows, as one ONNX Runtime graph:
// TopK(MatMul(Q, Bᵀ)). ONNX Runtime's matrix product dispatches to the CPU's widest SIMD and spreads over
// its threads, takes Float32Array as it is (faiss-node needs number[] copies), and frees what it allocates:
// faiss-node 0.5.1 keeps every query array it is given (its search never frees its float copy), which
// over the 624k × 2.5 query rows of a duplicate scan grew a process by 4 GB. The graph is a few hundred
// bytes, written here as protobuf so that no model file has to ship.
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';

/** Largest query × base score matrix one run computes (floats): bounds memory at 128 MB. */
const MAX_PRODUCT = 32 * 1024 * 1024;

export interface TopKResult {
  /** Row-major [queries, k]: the k best scores of each query, best first. */
  scores: Float32Array;
  /** Base rows of those scores. */
  rows: Int32Array;
  k: number;
}

export class TopKProduct {
  private constructor(private readonly session: InferenceSession) {}

  static async create(threads = 2): Promise<TopKProduct> {
    const session = await ort.InferenceSession.create(topKProductModel(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new TopKProduct(session);
  }

  /** For each row of `queries`, the k base rows with the largest inner product (k ≤ base rows). */
  async search(queries: Float32Array, base: Float32Array, dim: number, k: number): Promise<TopKResult> {
    const nq = queries.length / dim;
    const nb = base.length / dim;
    if (!Number.isInteger(nq) || !Number.isInteger(nb)) throw new RangeError(`rows must be whole ${dim}-d vectors`);
    if (!Number.isInteger(k) || k < 1 || k > nb) throw new RangeError(`k must be in 1..${nb}, got ${k}`);
    const scores = new Float32Array(nq * k);
    const rows = new Int32Array(nq * k);
    const baseTensor = new ort.Tensor('float32', base, [nb, dim]);
    const kTensor = new ort.Tensor('int64', BigInt64Array.from([BigInt(k)]), [1]);
    const step = Math.max(1, Math.floor(MAX_PRODUCT / nb));
    for (let start = 0; start < nq; start += step) {
      const end = Math.min(nq, start + step);
      const q = new ort.Tensor('float32', queries.subarray(start * dim, end * dim), [end - start, dim]);
      const out = await this.session.run({ queries: q, base: baseTensor, k: kTensor });
      scores.set(out.values.data as Float32Array, start * k);
      const indices = out.indices.data as BigInt64Array;
      for (let i = 0; i < indices.length; i++) rows[start * k + i] = Number(indices[i]);
    }
    return { scores, rows, k };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

// ---- a minimal protobuf writer for the ONNX ModelProto of TopK(MatMul(queries, Transpose(base)), k) ----

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const tag = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number) => [...tag(field, 0), ...varint(value)];
const bytes = (field: number, data: number[]) => [...tag(field, 2), ...varint(data.length), ...data];
const text = (field: number, value: string) => bytes(field, [...Buffer.from(value, 'utf8')]);

/** ValueInfoProto of a tensor; each dim a size or a symbolic name. */
function tensorInfo(name: string, elemType: number, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : text(2, d)));
  const tensorType = [...int(1, elemType), ...bytes(2, shape)];
  return [...text(1, name), ...bytes(2, bytes(1, tensorType))];
}

function nodeProto(op: string, inputs: string[], outputs: string[], attributes: number[][] = []): number[] {
  return [...inputs.flatMap((i) => text(1, i)), ...outputs.flatMap((o) => text(2, o)), ...text(4, op), ...attributes.flatMap((a) => bytes(5, a))];
}

/** AttributeProto holding one int (type INT = 2) or ints (type INTS = 7). */
const intAttribute = (name: string, value: number) => [...text(1, name), ...int(3, value), ...int(20, 2)];
const intsAttribute = (name: string, values: number[]) => [...text(1, name), ...values.flatMap((v) => int(8, v)), ...int(20, 7)];

const FLOAT = 1;
const INT64 = 7;

function topKProductModel(): Uint8Array {
  const graph = [
    ...bytes(1, nodeProto('Transpose', ['base'], ['base_t'], [intsAttribute('perm', [1, 0])])),
    ...bytes(1, nodeProto('MatMul', ['queries', 'base_t'], ['products'])),
    ...bytes(1, nodeProto('TopK', ['products', 'k'], ['values', 'indices'], [intAttribute('axis', 1), intAttribute('largest', 1), intAttribute('sorted', 1)])),
    ...text(2, 'top_k_product'),
    ...bytes(11, tensorInfo('queries', FLOAT, ['nq', 'dim'])),
    ...bytes(11, tensorInfo('base', FLOAT, ['nb', 'dim'])),
    ...bytes(11, tensorInfo('k', INT64, [1])),
    ...bytes(12, tensorInfo('values', FLOAT, ['nq', 'k_out'])),
    ...bytes(12, tensorInfo('indices', INT64, ['nq', 'k_out'])),
  ];
  // ir_version 8, opset 13 (TopK-11 semantics), then the graph.
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...text(1, ''), ...int(2, 13)]), ...bytes(7, graph)]);
}
