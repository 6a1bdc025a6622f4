// Entry of a child process that rebuilds a library's vector index from the catalogue and saves it as a new
// generation in the index folder. Training an IVF index is one long native call (about 45 s at 624k); run in
// the process serving searches it would hold every search until it ends. Here it runs beside it: the
// searching process keeps its current index and loads the new one when this finishes (jobs/child-job.ts).
import { serveChildJob } from '../jobs/child-job.js';
import { Library } from '../library.js';
import { buildFromCatalogue } from './build-from-catalogue.js';
import { VectorSearchService } from './search-worker.js';
import type { IndexInfo } from './vector-index.js';

export interface RebuildArgs {
  libraryDir: string;
  modelId: string;
  dim: number;
  indexDir: string;
}

serveChildJob<RebuildArgs, never, IndexInfo>(async ({ libraryDir, modelId, dim, indexDir }) => {
  const library = Library.open(libraryDir);
  const service = VectorSearchService.start();
  try {
    return await buildFromCatalogue(service, library, modelId, dim, indexDir);
  } finally {
    await service.close();
    library.close();
  }
});
