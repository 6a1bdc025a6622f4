// photo-search export: writes the library's vectors as embeddings.npy + file_paths.txt + faiss.index.
import { Library } from '../../core/library.js';
import { exportRecipe } from '../../core/recipe/index.js';
import { UsageError, libraryDirFrom, parseCommandArgs } from '../args.js';

export const usage = 'export --out DIR [--model ID] [--force] [--library DIR]   write embeddings.npy, file_paths.txt, faiss.index, manifest.json';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string' },
    model: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.out) throw new UsageError('--out DIR is required');
  const library = Library.openExisting(libraryDirFrom(values.library));
  try {
    let lastReport = 0;
    const result = await exportRecipe(library, {
      outDir: values.out,
      modelId: values.model,
      overwrite: values.force ?? false,
      onProgress: (done, total) => {
        if (process.stderr.isTTY && Date.now() - lastReport > 500) {
          lastReport = Date.now();
          process.stderr.write(`\rexporting ${done}/${total}`);
        }
      },
    });
    if (process.stderr.isTTY && lastReport) process.stderr.write('\n');
    console.log(`exported ${result.count} vectors (${result.dimension}-d, model ${result.modelId}) to ${result.dir}`);
    for (const file of result.files) console.log(`  ${file}`);
    if (result.skipped.length) {
      console.warn(`left out ${result.skipped.length} photo(s) whose path contains a line break, e.g. ${JSON.stringify(result.skipped[0])}`);
    }
    return 0;
  } finally {
    library.close();
  }
}
