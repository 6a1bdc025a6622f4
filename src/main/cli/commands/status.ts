// photo-search status: what the library holds and how far indexing got.
import { Library } from '../../core/library.js';
import { libraryDirFrom, parseCommandArgs } from '../args.js';

export const usage = 'status [--json] [--library DIR]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } });
  const library = Library.openExisting(libraryDirFrom(values.library));
  try {
    const model = library.currentModel;
    const counts = library.catalogue.statusCounts(model?.id ?? null);
    const searching = library.earlierSearchModel;
    const status = {
      library: library.paths.dir,
      model: model ? { id: model.id, dim: model.dim, dir: model.dir } : null,
      // Search reads an earlier model's vectors until the current one has embedded every photo.
      ...(searching ? { searchModel: searching } : {}),
      ...counts,
      folders: library.catalogue.listFolders(),
    };
    if (values.json) {
      console.log(JSON.stringify(status, null, 2));
    } else {
      console.log(`library   ${status.library}`);
      console.log(`model     ${model ? `${model.id} (${model.dim}-d)` : 'none yet (index with --model DIR or --model-id ID)'}`);
      if (searching) console.log(`search    ${searching.id} (${searching.embedded} photos) until ${model!.id} has embedded them all`);
      console.log(`photos    ${counts.photos}`);
      console.log(`embedded  ${counts.embedded}`);
      console.log(`pending   ${counts.pending}`);
      console.log(`failed    ${counts.failed}${counts.failed ? '  (photo-search status --json, or the app\'s indexing panel, lists them)' : ''}`);
      if (counts.missing) console.log(`missing   ${counts.missing}  (gone from disk; ratings and tags are kept)`);
      for (const f of status.folders) console.log(`folder    ${f.path}  (${f.photoCount} photos)`);
    }
    return 0;
  } finally {
    library.close();
  }
}
