// Worker thread that builds a filtered-search sketch (vector-sketch.ts) from its own read-only connection to
// the catalogue, and hands the arrays over by transfer.
import { parentPort, workerData } from 'node:worker_threads';
import { Catalogue } from '../catalogue/catalogue.js';
import { VectorSketch } from './vector-sketch.js';

const { catalogueFile, modelId, dim } = workerData as { catalogueFile: string; modelId: string; dim: number };
const catalogue = new Catalogue(catalogueFile, { readonly: true });
try {
  const parts = VectorSketch.buildParts(catalogue, modelId, dim);
  parentPort!.postMessage(parts, [parts.codes.buffer, parts.rowOf.buffer, parts.scale.buffer] as ArrayBuffer[]);
} finally {
  catalogue.close();
}
