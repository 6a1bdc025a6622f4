// Import: brings a recipe (embeddings.npy + file_paths.txt [+ faiss.index, manifest.json]) into a library,
// so that indexing then embeds only the photos still missing a vector. Everything is read and checked
// first; the catalogue is written in one transaction, so a refused or failed import changes nothing.
//
// Decisions:
// - Photos the catalogue does not know are registered under the library folder that contains them (or no
//   folder), with their real size and mtime so a later scan sees them as unchanged and keeps the vectors.
// - A new photo whose file is not on this disk is still registered, as 'missing', with its vector: nothing
//   the user brought is dropped, and it comes back if a scan finds it unchanged. It is never embedded.
// - Photos that already have a vector for the model keep it (counted as skipped).
// - A known model's alias (e.g. "ViT-B/32") stores under the library's name for those weights (see
//   known-models.ts), so indexing afterwards does not start over under another id.
// - Rows are L2-normalised on import (search scores are inner products of unit vectors).
// - The vectors come from the .npy; faiss.index, when present, is only checked (same rows and dimension).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NewPhoto } from '../catalogue/catalogue.js';
import type { Library } from '../library.js';
import { NpyFormatError, readNpy, type NpyDtype } from '../npy.js';
import { defaultModelsDir } from '../paths.js';
import { knownModel, resolveImportModel } from './known-models.js';
import {
  MANIFEST_FORMAT, RECIPE_FILES, RecipeError, normaliseRows, parsePathList, readFaissHeader, type RecipeManifest,
} from './recipe-format.js';

export interface ImportRecipeOptions {
  dir: string;
  modelId: string;
  /** Where model folders are looked up to vouch for an id (default: the app's models folder; null: none). */
  modelsDir?: string | null;
  /** Make the model the library's current one when the library has none yet (default true). */
  adoptModelIfNone?: boolean;
}

export interface ImportSummary {
  /** The model the vectors were stored under: the id asked for, or the library's name for the same weights. */
  modelId: string;
  rows: number;
  dimension: number;
  dtype: NpyDtype;
  /** Photos the catalogue did not know before. */
  registered: number;
  /** Of those, how many were not found on disk (registered as missing, vector kept). */
  notFound: number;
  vectorsStored: number;
  /** Rows whose photo already had a vector for this model (left as it was). */
  skippedExisting: number;
  /** Rows that were not unit length and were rescaled. */
  normalised: number;
  modelRegistered: boolean;
  modelAdopted: boolean;
  faissIndexChecked: boolean;
  /** Photos still waiting for a vector from this model, library-wide, after the import. */
  leftToEmbed: number;
}

export interface ImportPathsSummary {
  listed: number;
  registered: number;
  alreadyKnown: number;
  /** Listed files that do not exist (or cannot be read) here: not registered. */
  notFound: string[];
}

export async function importRecipe(library: Library, options: ImportRecipeOptions): Promise<ImportSummary> {
  const dir = path.resolve(options.dir);
  if (!existsSync(dir)) throw new RecipeError(`recipe folder ${dir} does not exist`);
  if (!(await stat(dir)).isDirectory()) throw new RecipeError(`${dir} is not a folder`);
  const fileIn = (name: string) => path.join(dir, name);
  for (const required of [RECIPE_FILES.embeddings, RECIPE_FILES.paths]) {
    if (!existsSync(fileIn(required))) throw new RecipeError(`missing file: ${fileIn(required)}`);
  }

  // ---- read and check everything (no writes) ----
  let npy;
  try {
    npy = readNpy(await readFile(fileIn(RECIPE_FILES.embeddings)));
  } catch (error) {
    if (error instanceof NpyFormatError) throw new RecipeError(`${RECIPE_FILES.embeddings}: ${error.message}`);
    throw error;
  }
  if (npy.shape.length !== 2 || npy.shape[1] < 1) {
    throw new RecipeError(`${RECIPE_FILES.embeddings} must be a 2-D array (rows, dimension), found shape (${npy.shape.join(', ')})`);
  }
  const [rows, dimension] = npy.shape;
  const paths = parsePathList(await readFile(fileIn(RECIPE_FILES.paths)), RECIPE_FILES.paths);
  if (paths.length !== rows) {
    throw new RecipeError(`${RECIPE_FILES.paths} lists ${paths.length} paths but ${RECIPE_FILES.embeddings} has ${rows} rows`);
  }

  const manifest = await readManifest(fileIn(RECIPE_FILES.manifest));
  if (manifest) {
    if (!sameModel(manifest.modelId, options.modelId)) {
      throw new RecipeError(`${RECIPE_FILES.manifest} says these vectors come from model "${manifest.modelId}", not "${options.modelId}"`);
    }
    if (manifest.count !== rows || manifest.dimension !== dimension) {
      throw new RecipeError(`${RECIPE_FILES.manifest} describes ${manifest.count}×${manifest.dimension} vectors but ${RECIPE_FILES.embeddings} is ${rows}×${dimension}`);
    }
  }

  let faissIndexChecked = false;
  if (existsSync(fileIn(RECIPE_FILES.faissIndex))) {
    const header = await readFaissHeader(fileIn(RECIPE_FILES.faissIndex));
    if (header.ntotal !== rows || header.dimension !== dimension) {
      throw new RecipeError(`${RECIPE_FILES.faissIndex} holds ${header.ntotal}×${header.dimension} vectors but ${RECIPE_FILES.embeddings} is ${rows}×${dimension}`);
    }
    faissIndexChecked = true;
  }

  const catalogue = library.catalogue;
  const resolved = await resolveImportModel(catalogue, options.modelId, dimension, {
    modelsDir: options.modelsDir === undefined ? defaultModelsDir() : options.modelsDir,
    preprocessVersion: manifest?.preprocessVersion,
    manifestModelId: manifest?.modelId,
    currentModelId: library.currentModel?.id ?? null,
  });
  const normalised = normaliseRows(npy.data, dimension, (r) => `${RECIPE_FILES.embeddings} row ${r} (${paths[r]})`);

  const known = paths.map((p) => catalogue.photoIdByPath(p));
  const newPaths = paths.filter((_, i) => known[i] === null);
  const files = await statAll(newPaths);
  const folderOf = folderMatcher(library);
  const newPhotos: NewPhoto[] = newPaths.map((p, i) => ({
    folderId: folderOf(p), path: p, size: files[i]?.size ?? 0, mtimeMs: files[i]?.mtimeMs ?? 0,
  }));
  const adopt = (options.adoptModelIfNone ?? true) && library.currentModel === null;

  // ---- one transaction ----
  let vectorsStored = 0;
  catalogue.bulkTransaction(() => {
    if (!resolved.registered) catalogue.registerModel(resolved.model);
    catalogue.insertPhotos(newPhotos);
    const ids = paths.map((p, i) => known[i] ?? catalogue.photoIdByPath(p));
    if (ids.some((id) => id === null)) throw new RecipeError('internal error: a registered photo has no id');
    vectorsStored = catalogue.importVectors(resolved.model, ids as number[], npy.data);
    const absent = newPaths.filter((_, i) => files[i] === null).map((p) => catalogue.photoIdByPath(p) as number);
    catalogue.markMissing(absent);
    if (adopt) library.useModel(resolved.model, resolved.dir);
  });

  return {
    modelId: resolved.model.id,
    rows,
    dimension,
    dtype: npy.dtype,
    registered: newPaths.length,
    notFound: files.filter((f) => f === null).length,
    vectorsStored,
    skippedExisting: rows - vectorsStored,
    normalised,
    modelRegistered: !resolved.registered,
    modelAdopted: adopt,
    faissIndexChecked,
    leftToEmbed: catalogue.countToEmbed(resolved.model.id),
  };
}

/** Registers the photos listed in a text file (one absolute path a line) without vectors. */
export async function importPathList(library: Library, options: { file: string }): Promise<ImportPathsSummary> {
  const file = path.resolve(options.file);
  if (!existsSync(file)) throw new RecipeError(`missing file: ${file}`);
  const paths = parsePathList(await readFile(file), path.basename(file));
  const catalogue = library.catalogue;
  const newPaths = paths.filter((p) => catalogue.photoIdByPath(p) === null);
  const files = await statAll(newPaths);
  const folderOf = folderMatcher(library);
  const photos: NewPhoto[] = [];
  const notFound: string[] = [];
  newPaths.forEach((p, i) => {
    const found = files[i];
    if (found) photos.push({ folderId: folderOf(p), path: p, size: found.size, mtimeMs: found.mtimeMs });
    else notFound.push(p);
  });
  const registered = catalogue.insertPhotos(photos);
  return { listed: paths.length, registered, alreadyKnown: paths.length - newPaths.length, notFound };
}

function sameModel(a: string, b: string): boolean {
  const family = knownModel(a);
  return a === b || (family !== null && family === knownModel(b));
}

async function readManifest(file: string): Promise<RecipeManifest | null> {
  if (!existsSync(file)) return null;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RecipeError(`${RECIPE_FILES.manifest} is not valid JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<RecipeManifest> | null;
  // Another tool's manifest.json is not ours to interpret.
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) return null;
  if (typeof m.modelId !== 'string' || !Number.isInteger(m.count) || !Number.isInteger(m.dimension)) {
    throw new RecipeError(`${RECIPE_FILES.manifest} is incomplete (needs modelId, count, dimension)`);
  }
  return m as RecipeManifest;
}

/** Size and mtime of each path, or null where there is no readable file; a folder is an error. */
async function statAll(paths: string[], concurrency = 32): Promise<({ size: number; mtimeMs: number } | null)[]> {
  const out: ({ size: number; mtimeMs: number } | null)[] = new Array(paths.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        const s = await stat(paths[i]);
        if (s.isDirectory()) throw new RecipeError(`${paths[i]} is a folder, not a photo`);
        out[i] = { size: s.size, mtimeMs: s.mtimeMs };
      } catch (error) {
        if (error instanceof RecipeError) throw error;
        out[i] = null;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}

/** The library folder containing a path (longest match), else null. */
function folderMatcher(library: Library): (file: string) => number | null {
  const folders = library.catalogue.listFolders().sort((a, b) => b.path.length - a.path.length);
  return (file) => {
    const folder = folders.find((f) => file.startsWith(f.path.endsWith(path.sep) ? f.path : f.path + path.sep));
    return folder?.id ?? null;
  };
}
