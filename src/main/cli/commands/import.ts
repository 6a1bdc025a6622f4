// photo-search import: brings in a recipe (embeddings.npy + file_paths.txt [+ faiss.index]) or a bare list
// of photo paths, so that `index` embeds only what is still missing.
import { Library } from '../../core/library.js';
import { importPathList, importRecipe } from '../../core/recipe/index.js';
import { UsageError, libraryDirFrom, parseCommandArgs } from '../args.js';

export const usage = 'import --dir DIR --model-id ID | --paths FILE [--library DIR]   bring in embeddings.npy + file_paths.txt (+ faiss.index), or register a list of photo paths';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    dir: { type: 'string' },
    'model-id': { type: 'string' },
    paths: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.dir && values.paths) throw new UsageError('give either --dir (a recipe) or --paths (a list of photos), not both');
  if (!values.dir && !values.paths) throw new UsageError('--dir DIR --model-id ID, or --paths FILE, is required');
  if (values.dir && !values['model-id']) throw new UsageError('--model-id ID is required with --dir (the model that made the vectors)');

  const library = Library.open(libraryDirFrom(values.library));
  try {
    if (values.paths) {
      const s = await importPathList(library, { file: values.paths });
      console.log(`listed ${s.listed}: registered ${s.registered} new, ${s.alreadyKnown} already known, ${s.notFound.length} not found`);
      if (s.notFound.length) console.warn(`not found (not registered), e.g. ${s.notFound.slice(0, 3).join(', ')}`);
      return 0;
    }
    const s = await importRecipe(library, { dir: values.dir!, modelId: values['model-id']! });
    console.log([
      `imported ${s.rows} rows (${s.dimension}-d ${s.dtype}) for model ${s.modelId}` +
        (s.modelId === values['model-id'] ? '' : ` (the library's name for ${values['model-id']})`),
      `  registered new photos: ${s.registered}${s.notFound ? ` (${s.notFound} not found on disk, kept as missing)` : ''}`,
      `  vectors stored: ${s.vectorsStored}`,
      `  skipped (already had a vector): ${s.skippedExisting}`,
      s.normalised ? `  rescaled to unit length: ${s.normalised}` : null,
      s.faissIndexChecked ? '  faiss.index matches (rows, dimension)' : '  no faiss.index (not needed)',
      s.modelRegistered ? `  model registered${s.modelAdopted ? ' and made current' : ''}` : null,
      `  photos left to embed with this model: ${s.leftToEmbed}`,
    ].filter((line) => line !== null).join('\n'));
    return 0;
  } finally {
    library.close();
  }
}
