// A child process for the kill test (kill-recovery.test.ts): resolves duplicate groups (the kept copy takes
// the others' tags and rating, the others go to the freedesktop trash under XDG_DATA_HOME) or undoes a trash
// edit, printing a line as it starts and one per file moved, so the parent can SIGKILL it at a chosen moment.
// argv[2]: JSON { libraryDir, job: 'merge', merges: MergeChoice[] } or { libraryDir, job: 'undo', editId }.
import trash from 'trash';
import type { MergeChoice } from '../../src/main/core/catalogue/catalogue.js';
import { trashPhotos } from '../../src/main/core/duplicates/trash.js';
import { systemTrash } from '../../src/main/core/duplicates/trash-restore.js';
import { undoTrashEdit } from '../../src/main/core/duplicates/trash-undo.js';
import { Library } from '../../src/main/core/library.js';

type Job = { libraryDir: string; job: 'merge'; merges: MergeChoice[] } | { libraryDir: string; job: 'undo'; editId: number };

const args = JSON.parse(process.argv[2]) as Job;
const library = Library.open(args.libraryDir);
const say = (line: string) => process.stdout.write(`${line}\n`);
say('ready');
if (args.job === 'merge') {
  const result = await trashPhotos(library, args.merges.flatMap((m) => m.fromIds), {
    merges: args.merges,
    moveToTrash: async (file) => {
      await trash(file, { glob: false });
      say('moved');
    },
  });
  say(JSON.stringify(result));
} else {
  const system = systemTrash();
  const result = await undoTrashEdit(library, args.editId, {
    ...system,
    restore: async (original, size) => {
      const outcome = await system.restore(original, size);
      say('restored');
      return outcome;
    },
  });
  say(JSON.stringify(result.result));
}
library.close();
