// photo-search index <folder>: register a folder's photos and embed every one not embedded yet.
// Safe to kill at any moment: each batch is committed on its own, and the next run resumes after it.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Library } from '../../core/library.js';
import { defaultModelsDir } from '../../core/paths.js';
import { scanLibrary } from '../../core/scanner/scanner.js';
import { runIndexing } from '../../core/embed/pipeline.js';
import { IndexingControl } from '../../core/embed/control.js';
import { openVectorStore } from '../../core/search/vector-store.js';
import { downloadModel } from '../../core/model/download.js';
import type { ModelFolder } from '../../core/model/model-folder.js';
import { deriveInt8Folder, INT8_MODEL_SUFFIX, int8SourceId, readInt8Marker } from '../../core/model/int8/int8-folder.js';
import { acquireWriterLock, describeOwner, waitForWriterLock, type LibraryBusyError, type WriterLock } from '../../core/writer-lock.js';
import { DEFAULT_MODEL_ID, downloadedModelDir, useModelFolder } from '../../core/service/model-manager.js';
import { describeSkipped } from '../../core/service/indexing-controller.js';
import type { IndexingProgress } from '../../../shared/types.js';
import { PROVIDER_CHOICES } from '../../../shared/types.js';
import { describeRuntime } from '../../../shared/embedding-runtime.js';
import { isProviderChoice } from '../../core/model/execution-providers.js';
import { defaultCalibrationFile } from '../../core/embed/calibration-store.js';
import { libraryDirFrom, parseCommandArgs, positiveInt, UsageError } from '../args.js';

export const usage = 'index [<folder>…] [--model DIR | --model-id ID] [--precision fp32|int8] [--provider auto|cpu|cuda|dml|coreml] [--batch N] [--threads N] [--wait] [--json] [--library DIR]';

const MAX_FAILURES_LISTED = 20;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    model: { type: 'string' },
    'model-id': { type: 'string' },
    precision: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    provider: { type: 'string' },
    wait: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.model && values['model-id']) throw new UsageError('give --model DIR or --model-id ID, not both');
  const precision = precisionFrom(values.precision);
  // Unset, they come from the calibration remembered for this machine (measured on the first run).
  const batchSize = values.batch === undefined ? undefined : positiveInt(values.batch, 'batch', 16);
  const threads = values.threads === undefined ? undefined : positiveInt(values.threads, 'threads', 2);
  const provider = values.provider;
  if (provider !== undefined && !isProviderChoice(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}, got ${provider}`);
  }
  const library = Library.open(libraryDirFrom(values.library));
  let lock: WriterLock | null = null;
  try {
    // Held from the scan to the end of the run: a second `index` on this library refuses at once, naming this one
    // (with --wait it waits for it, as the app and `serve` do).
    lock = values.wait ? await waitForWriterLock(library.paths.dir, 'photo-search index', { onBusy: sayWhoWeWaitFor() })
      : acquireWriterLock(library.paths.dir, 'photo-search index');
    const model = await chooseModel(library, values.model, values['model-id'], precision);
    for (const folder of positionals) {
      const absolute = path.resolve(folder);
      const info = await stat(absolute).catch(() => null);
      if (!info?.isDirectory()) throw new Error(`not a folder: ${absolute}`);
      library.catalogue.addFolder(await realpath(absolute), path.sep);
    }
    if (library.catalogue.listFolders().length === 0) throw new UsageError('no folder to index: give one');

    log(`Scanning ${library.catalogue.listFolders().map((f) => f.path).join(', ')}`);
    const scan = await scanLibrary(library.catalogue);
    for (const f of scan.folders) {
      const skipped = describeSkipped([f.unsupported]);
      log(`  ${f.folder}: ${f.added} new, ${f.changed} changed, ${f.moved} moved, ${f.missing} missing, ${f.unchanged} unchanged` +
        (skipped ? `; ${skipped}` : ''));
    }
    for (const e of scan.errors) log(`  ${e.folder}: ${e.error}`);

    const control = new IndexingControl();
    const onSignal = (): void => {
      log('\nStopping after the current batch (everything embedded so far is kept)…');
      control.cancel();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const summary = await runIndexing({
      library, modelFolder: model, batchSize, threads, provider, calibrationFile: defaultCalibrationFile(), control, onProgress: progressPrinter(),
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);

    const store = await openVectorStore(library, model.modelId, model.dim);
    const indexed = store.size;
    await store.close();
    const counts = library.catalogue.statusCounts(model.modelId);
    const failures = library.catalogue.listFailed(MAX_FAILURES_LISTED);
    if (values.json) {
      console.log(JSON.stringify({ ...summary, indexed, library: counts, failures }, null, 2));
    } else {
      console.log(`${summary.state === 'cancelled' ? 'Stopped' : 'Done'}: embedded ${summary.embedded} photos in ` +
        `${(summary.durationMs / 1000).toFixed(1)} s (${summary.photosPerSecond.toFixed(1)} photos/s), ${summary.failed} failed.`);
      console.log(`Library: ${counts.embedded} of ${counts.photos} photos embedded with ${model.modelId}; ${indexed} in the search index.`);
      if (counts.failed > 0) {
        console.log(`Photos that could not be indexed (${counts.failed}):`);
        for (const f of failures) console.log(`  [${f.status}] ${f.path}: ${f.error}`);
        if (counts.failed > failures.length) console.log(`  … and ${counts.failed - failures.length} more`);
      }
    }
    return 0;
  } finally {
    lock?.release();
    library.close();
  }
}

type Precision = 'fp32' | 'int8';

function precisionFrom(value: string | undefined): Precision | undefined {
  if (value === undefined || value === 'fp32' || value === 'int8') return value;
  throw new UsageError(`--precision must be fp32 or int8, got '${value}'`);
}

/**
 * The model to embed with: a float32 folder, or its int8 twin (derived once into the models folder) under its
 * own model id. Without --precision, a library already on an int8 model stays on it.
 */
async function chooseModel(library: Library, modelDir: string | undefined, modelId: string | undefined, precision: Precision | undefined): Promise<ModelFolder> {
  const source = await chooseSourceFolder(library, modelDir, modelId);
  if ((precision ?? source.precision) === 'fp32') return useModelFolder(library, source.dir, source.id);
  const int8Dir = await deriveInt8Folder(source.dir, {
    modelsDir: defaultModelsDir(),
    onDerive: (dir) => log(`Quantizing the image tower of ${source.dir} to int8 into ${dir}…`),
  });
  return useModelFolder(library, int8Dir, `${source.id ?? path.basename(path.resolve(source.dir))}${INT8_MODEL_SUFFIX}`);
}

async function chooseSourceFolder(library: Library, modelDir: string | undefined, modelId: string | undefined):
  Promise<{ dir: string; id?: string; precision: Precision }> {
  if (modelDir) return sourceOf(path.resolve(modelDir), undefined);
  const current = library.currentModel;
  if (!modelId && current?.dir) return sourceOf(current.dir, current.id);
  const id = modelId ?? DEFAULT_MODEL_ID;
  const modelsDir = defaultModelsDir();
  let dir = downloadedModelDir(modelsDir, id);
  if (!dir) {
    log(`Downloading ${id} into ${modelsDir}…`);
    let lastShown = 0;
    dir = await downloadModel(id, {
      modelsDir,
      onProgress: (p) => {
        if (Date.now() - lastShown < 1000 && p.overallReceivedBytes < p.overallTotalBytes) return;
        lastShown = Date.now();
        log(`  ${(p.overallReceivedBytes / 1e6).toFixed(0)} / ${(p.overallTotalBytes / 1e6).toFixed(0)} MB  ${p.file}`);
      },
    }).catch((error: Error) => {
      throw new Error(`could not download ${id} (${error.message}). Without internet, pass --model DIR with a model folder.`);
    });
  }
  return { dir, id, precision: 'fp32' };
}

/** A derived int8 folder stands for its float32 source, with int8 as the precision unless told otherwise. */
function sourceOf(dir: string, id: string | undefined): { dir: string; id?: string; precision: Precision } {
  const int8 = readInt8Marker(dir);
  if (!int8) return { dir, id, precision: 'fp32' };
  return { dir: int8.source, id: id === undefined ? undefined : int8SourceId(id) ?? undefined, precision: 'int8' };
}

/** Says once, and again when the holder changes, whom `--wait` waits for. */
function sayWhoWeWaitFor(): (busy: LibraryBusyError) => void {
  let said = '';
  return (busy) => {
    const holder = describeOwner(busy.owner);
    if (holder !== said) log(`Waiting for ${holder} to finish writing this library…`);
    said = holder;
  };
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

/**
 * Progress on stderr: rewritten in place on a terminal, a line every few seconds otherwise; the pipeline's notes
 * (a calibration) and, once, the provider and settings that embed (with why any provider was passed over).
 */
function progressPrinter(): (p: IndexingProgress) => void {
  let lastLine = 0;
  let lastMessage: string | undefined;
  let runtimeShown = false;
  return (p) => {
    if (p.state === 'embedding' && p.message && p.message !== lastMessage) log(p.message);
    lastMessage = p.message;
    if (p.runtime && !runtimeShown) {
      runtimeShown = true;
      log(describeRuntime(p.runtime));
    }
    const now = Date.now();
    const final = p.done === p.total;
    if (!process.stderr.isTTY && now - lastLine < 5000 && !final) return;
    lastLine = now;
    const eta = p.etaSeconds === null ? '' : `, ETA ${formatDuration(p.etaSeconds)}`;
    const text = `Embedding ${p.done}/${p.total} (${p.photosPerSecond.toFixed(1)} photos/s${eta}${p.failed ? `, ${p.failed} failed` : ''})`;
    process.stderr.write(process.stderr.isTTY ? `\r${text}\x1b[K${final ? '\n' : ''}` : `${text}\n`);
  };
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
