// Waiting on a LibraryService's background indexing in tests.
import type { LibraryService } from '../../src/main/core/service/library-service.js';
import type { ApiEvent, IndexingProgress } from '../../src/shared/types.js';

/** Settles with the progress of the next indexing run to end (done, error or cancelled). */
export function waitForIndexing(service: LibraryService): Promise<IndexingProgress> {
  return new Promise((resolve) => {
    const off = service.onEvent((event: ApiEvent) => {
      if (event.type === 'indexing' && ['done', 'error', 'cancelled'].includes(event.progress.state)) {
        off();
        resolve(event.progress);
      }
    });
  });
}

/** Starts indexing and waits for the run to end. */
export async function indexToTheEnd(service: LibraryService): Promise<IndexingProgress> {
  const finished = waitForIndexing(service);
  await service.startIndexing();
  return finished;
}
