// photo-search search "<text>": the best-matching photos for a natural-language query: the best matches (the
// relevance cutoff) or, with --all, every ranked photo; best first or, with --sort date, newest first.
import { Library } from '../../core/library.js';
import { SearchEngine, RANKED_LIMIT } from '../../core/search/search-engine.js';
import { loadModelFolder } from '../../core/model/model-folder.js';
import { defaultModelsDir } from '../../core/paths.js';
import { libraryDirFrom, parseCommandArgs, positiveInt, UsageError } from '../args.js';

export const usage = 'search "<text>" [-k N] [--sort relevance|date] [--all] [--json] [--library DIR]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    k: { type: 'string', short: 'k' }, json: { type: 'boolean' }, sort: { type: 'string' }, all: { type: 'boolean' },
  });
  const sort = values.sort ?? 'relevance';
  if (sort !== 'relevance' && sort !== 'date') throw new UsageError('--sort is relevance or date');
  const query = positionals.join(' ').trim();
  if (!query) throw new UsageError('a query is required');
  const k = positiveInt(values.k, 'k', 10);
  if (k > RANKED_LIMIT) throw new UsageError(`-k is at most ${RANKED_LIMIT}`);
  const library = Library.openExisting(libraryDirFrom(values.library));
  const model = library.searchModel;
  if (!model?.dir) {
    library.close();
    throw new Error(`library ${library.paths.dir} has no model yet: run photo-search index <folder> --model DIR first`);
  }
  const folder = await loadModelFolder(model.dir, model.id);
  const engine = new SearchEngine(library, () => folder, { modelsDir: defaultModelsDir() });
  try {
    // A query the model cannot read (Hebrew for an English-only model) is not searched: say so, and which
    // model would read it; one read by another text tower (the multilingual one) says which.
    const notice = await engine.textNotice(query);
    if (notice) console.error(notice.message);
    if (notice?.kind === 'cannot-read') {
      if (values.json) console.log('[]');
      return 1;
    }
    const response = await engine.searchText(query, k, { sort, scope: values.all ? 'all' : 'best' });
    const results = response.items;
    if (values.json) {
      console.log(JSON.stringify(results.map((r) => ({
        path: r.path, score: r.score, id: r.id, takenAt: r.takenAt, matched: r.matched ?? [],
      })), null, 2));
    } else if (results.length === 0) {
      console.log('no photos embedded yet');
    } else {
      const best = response.best ?? 0;
      console.error(`${best.toLocaleString('en-US')} best match${best === 1 ? '' : 'es'} of ${(response.ranked ?? 0).toLocaleString('en-US')} ranked`
        + `${values.all ? '' : ' (--all for every ranked photo)'}; showing ${results.length}${sort === 'date' ? ', newest first' : ''}`);
      for (const r of results) {
        const date = sort === 'date' && r.takenAt !== null ? `  ${new Date(r.takenAt).toISOString().slice(0, 10)}` : '';
        console.log(`${r.score.toFixed(4)}${date}  ${r.path}${r.matched ? `  [${r.matched.join(', ')}]` : ''}`);
      }
    }
    return 0;
  } finally {
    await engine.close();
    library.close();
  }
}
