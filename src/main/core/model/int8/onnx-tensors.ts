// Reading an ONNX model's initializers wherever their bytes live (inline or in external data files beside
// the model), and writing a model whose large initializers go to one external data file, a tensor at a
// time, so a model is never held twice in memory.
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = OnnxTypes.ModelProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type NodeProto = OnnxTypes.INodeProto;

/** Initializers smaller than this stay inline in the .onnx file. */
const INLINE_LIMIT_BYTES = 1024;
/** External tensors start on page boundaries, so a runtime may map them rather than copy them. */
const EXTERNAL_ALIGNMENT = 4096;

export class OnnxFileError extends Error {
  override name = 'OnnxFileError';
}

export function readModel(file: string): ModelProto {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new OnnxFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxFileError(`${file} is not an ONNX model: ${(error as Error).message}`);
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Reads initializer bytes (little-endian, as ONNX raw_data lays them out) from wherever they are stored. */
export class TensorReader {
  private readonly files = new Map<string, number>();

  constructor(private readonly modelDir: string) {}

  isExternal(tensor: TensorProto): boolean {
    return tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
  }

  bytes(tensor: TensorProto): Uint8Array {
    if (this.isExternal(tensor)) return this.readExternal(tensor);
    if (tensor.rawData && tensor.rawData.length > 0) return tensor.rawData;
    if (tensor.dataType === onnx.TensorProto.DataType.FLOAT && tensor.floatData?.length) {
      return new Uint8Array(Float32Array.from(tensor.floatData).buffer);
    }
    if (elementCount(tensor) === 0) return new Uint8Array(0);
    throw new OnnxFileError(`initializer ${tensor.name} keeps its values in a field this reader does not handle`);
  }

  floats(tensor: TensorProto): Float32Array {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new OnnxFileError(`initializer ${tensor.name} is not float32`);
    const bytes = this.bytes(tensor);
    const expected = elementCount(tensor) * 4;
    if (bytes.byteLength !== expected) {
      throw new OnnxFileError(`initializer ${tensor.name} holds ${bytes.byteLength} bytes, its shape needs ${expected}`);
    }
    // copy: raw bytes inside a protobuf buffer need not be 4-byte aligned
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  close(): void {
    for (const fd of this.files.values()) closeSync(fd);
    this.files.clear();
  }

  private readExternal(tensor: TensorProto): Uint8Array {
    const entry = (key: string): string | undefined => tensor.externalData?.find((e) => e.key === key)?.value ?? undefined;
    const location = entry('location');
    if (!location || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
      throw new OnnxFileError(`initializer ${tensor.name} names an external file outside the model's folder: ${String(location)}`);
    }
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') === undefined ? elementCount(tensor) * bytesPerElement(tensor) : Number(entry('length'));
    const file = path.join(this.modelDir, location);
    let fd = this.files.get(file);
    if (fd === undefined) {
      try {
        fd = openSync(file, 'r');
      } catch (error) {
        throw new OnnxFileError(`cannot open ${file}, the weights of ${tensor.name}: ${(error as Error).message}`);
      }
      this.files.set(file, fd);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) throw new OnnxFileError(`${file} ends before the ${length} bytes of ${tensor.name} at offset ${offset}`);
      done += n;
    }
    return out;
  }
}

/** Appends tensors to one external data file and points their protos at it. */
export class ExternalDataWriter {
  private readonly fd: number;
  private offset = 0;

  /** `location`: the data file's name relative to the model file, as stored in the protos. */
  constructor(private readonly file: string, private readonly location: string) {
    this.fd = openSync(file, 'w');
  }

  /** Stores `bytes` as the tensor's value: externally when large, inline otherwise. */
  store(tensor: TensorProto, bytes: Uint8Array): void {
    if (bytes.byteLength < INLINE_LIMIT_BYTES) {
      tensor.rawData = bytes;
      tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      tensor.externalData = [];
    } else {
      const start = Math.ceil(this.offset / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
      let done = 0;
      while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, start + done);
      this.offset = start + bytes.byteLength;
      tensor.rawData = new Uint8Array(0);
      tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      tensor.externalData = [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(bytes.byteLength) },
      ];
    }
    tensor.floatData = [];
    tensor.int32Data = [];
    tensor.int64Data = [];
  }

  close(): void {
    closeSync(this.fd);
  }
}

export function elementCount(tensor: TensorProto): number {
  return (tensor.dims ?? []).reduce<number>((n, d) => n * Number(d), 1);
}

function bytesPerElement(tensor: TensorProto): number {
  const T = onnx.TensorProto.DataType;
  switch (tensor.dataType) {
    case T.DOUBLE: case T.INT64: case T.UINT64: return 8;
    case T.FLOAT: case T.INT32: case T.UINT32: return 4;
    case T.FLOAT16: case T.BFLOAT16: case T.INT16: case T.UINT16: return 2;
    case T.INT8: case T.UINT8: case T.BOOL: return 1;
    default: throw new OnnxFileError(`initializer ${tensor.name}: external data without a length, of element type ${tensor.dataType}`);
  }
}
