// A library's whole vector index built from its catalogue and saved as a new generation: the one recipe
// both for a first build in the searching process and for a rebuild in its own child process.
import type { Library } from '../library.js';
import type { VectorSearchService } from './search-worker.js';
import type { IndexInfo } from './vector-index.js';

export async function buildFromCatalogue(service: VectorSearchService, library: Library, modelId: string, dim: number, indexDir: string): Promise<IndexInfo> {
  const info = await service.build(library.catalogue.iterateEmbeddings(modelId, 0), { modelId, dim, workDir: library.paths.dir });
  await service.save(indexDir);
  return info;
}
