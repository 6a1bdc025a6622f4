// Entry of a child process that rebuilds a library's vector index from the catalogue and saves it as a new
// generation in the index folder. Training an IVF index is one long native call (about 45 s at 624k); run in
// the process serving searches it would hold every search until it ends. Here it runs beside it: the
// searching process keeps its current index and loads the new one when this exits.
// Started with child_process.fork(REBUILD_ENTRY, [libraryDir, modelId, dim, indexDir]); posts
// { type: 'done', info } or { type: 'error', message }.
import { Library } from '../library.js';
import { buildFromCatalogue } from './build-from-catalogue.js';
import { VectorSearchService } from './search-worker.js';

async function main(): Promise<void> {
  const [libraryDir, modelId, dimText, indexDir] = process.argv.slice(2);
  const dim = Number(dimText);
  if (!libraryDir || !modelId || !indexDir || !Number.isInteger(dim)) throw new Error('usage: rebuild-process LIBRARY MODEL DIM INDEX_DIR');
  const library = Library.open(libraryDir);
  const service = VectorSearchService.start();
  try {
    const info = await buildFromCatalogue(service, library, modelId, dim, indexDir);
    process.send?.({ type: 'done', info });
  } finally {
    await service.close();
    library.close();
  }
}

// The parent going away (quit, crash) ends the rebuild: its result would have no one to load it.
process.on('disconnect', () => process.exit(0));
main().then(
  () => process.exit(0),
  (error: Error) => {
    process.send?.({ type: 'error', message: error.message }, undefined, undefined, () => process.exit(1));
  },
);
