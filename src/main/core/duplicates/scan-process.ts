// Entry of a child process that scans a library for duplicates (jobs/child-job.ts): reading 624k vectors,
// hundreds of thousands of FAISS searches and perceptual hashes would otherwise hold the process that
// answers the UI for minutes. Posts throttled progress, then the sets found.
import { serveChildJob } from '../jobs/child-job.js';
import { Library } from '../library.js';
import { findDuplicateSets, type DuplicateReport, type DuplicateSet } from './duplicates.js';

export interface ScanArgs {
  libraryDir: string;
  modelId: string | null;
  /** The library's saved vector index for the model. */
  indexDir: string | null;
  /** Incremental: look for copies of vectors stored after this embedding id only. */
  afterEmbeddingId: number;
}

export interface ScanProgress {
  stage: 'vectors' | 'hashing' | 'grouping';
  done: number;
  total: number;
}

export interface ScanResult {
  sets: DuplicateSet[];
  stats: DuplicateReport['stats'];
}

const PROGRESS_INTERVAL_MS = 250;

serveChildJob<ScanArgs, ScanProgress, ScanResult>(async (args, progress) => {
  const library = Library.open(args.libraryDir);
  try {
    let last = 0;
    return await findDuplicateSets(library, {
      modelId: args.modelId ?? undefined,
      indexDir: args.indexDir ?? undefined,
      afterEmbeddingId: args.afterEmbeddingId,
      onProgress: (stage, done, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
        last = now;
        progress({ stage, done, total });
      },
    });
  } finally {
    library.close();
  }
});
