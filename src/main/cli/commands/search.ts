// photo-search search "<text>": the best-matching photos for a natural-language query.
import { Library } from '../../core/library.js';
import { SearchEngine, RANKED_LIMIT } from '../../core/search/search-engine.js';
import { loadModelFolder } from '../../core/model/model-folder.js';
import { libraryDirFrom, parseCommandArgs, positiveInt, UsageError } from '../args.js';

export const usage = 'search "<text>" [-k N] [--json] [--library DIR]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { k: { type: 'string', short: 'k' }, json: { type: 'boolean' } });
  const query = positionals.join(' ').trim();
  if (!query) throw new UsageError('a query is required');
  const k = positiveInt(values.k, 'k', 10);
  if (k > RANKED_LIMIT) throw new UsageError(`-k is at most ${RANKED_LIMIT}`);
  const library = Library.openExisting(libraryDirFrom(values.library));
  const model = library.currentModel;
  if (!model?.dir) {
    library.close();
    throw new Error(`library ${library.paths.dir} has no model yet: run photo-search index <folder> --model DIR first`);
  }
  const folder = await loadModelFolder(model.dir, model.id);
  const engine = new SearchEngine(library, () => folder);
  try {
    const results = await engine.searchText(query, k);
    if (values.json) {
      console.log(JSON.stringify(results.map((r) => ({ path: r.path, score: r.score, id: r.id })), null, 2));
    } else if (results.length === 0) {
      console.log('no photos embedded yet');
    } else {
      for (const r of results) console.log(`${r.score.toFixed(4)}  ${r.path}`);
    }
    return 0;
  } finally {
    await engine.close();
    library.close();
  }
}
