// Which model ids an import may store vectors under. Vectors from an unknown model would silently poison
// search (text queries are embedded by the library's model), so the id must be one we can vouch for.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Catalogue, ModelRecord } from '../catalogue/catalogue.js';
import { loadModelFolder } from '../model/model-folder.js';
import { RecipeError } from './recipe-format.js';

/** Published CLIP models whose vectors people keep around, by the names they go by, and their dimension. */
export const KNOWN_MODELS: Readonly<Record<string, number>> = {
  'immich-app/ViT-B-32__openai': 512,
  'ViT-B-32__openai': 512,
  'openai/clip-vit-base-patch32': 512,
};

/** Recorded as the preprocessing of imported vectors when neither the recipe nor a model folder says. */
export const UNKNOWN_PREPROCESS_VERSION = 'imported-unknown';

export interface ResolvedModel {
  model: ModelRecord;
  /** False when the import has to register it (it is known, but not in this catalogue yet). */
  registered: boolean;
  /** The model's folder, when it was found in the models directory. */
  dir: string | null;
}

/**
 * A model id is accepted when the catalogue already has it, when it names a model folder in `modelsDir`,
 * or when it is in KNOWN_MODELS. Throws a RecipeError otherwise, or when the dimension disagrees.
 */
export async function resolveImportModel(
  catalogue: Catalogue, modelId: string, dimension: number, options: { modelsDir: string | null; preprocessVersion?: string },
): Promise<ResolvedModel> {
  if (!modelId.trim()) throw new RecipeError('a model id is required');
  const mismatch = (dim: number, where: string) =>
    new RecipeError(`the embeddings are ${dimension}-d but model ${modelId} (${where}) is ${dim}-d`);

  const existing = catalogue.getModel(modelId);
  if (existing) {
    if (existing.dim !== dimension) throw mismatch(existing.dim, 'registered in this library');
    return { model: existing, registered: true, dir: null };
  }

  const folder = await findModelFolder(modelId, options.modelsDir);
  if (folder) {
    if (folder.dim !== dimension) throw mismatch(folder.dim, `model folder ${folder.dir}`);
    return { model: { id: modelId, dim: folder.dim, preprocessVersion: options.preprocessVersion ?? folder.preprocessVersion }, registered: false, dir: folder.dir };
  }

  const knownDim = KNOWN_MODELS[modelId];
  if (knownDim !== undefined && Object.hasOwn(KNOWN_MODELS, modelId)) {
    if (knownDim !== dimension) throw mismatch(knownDim, 'a known model');
    return { model: { id: modelId, dim: knownDim, preprocessVersion: options.preprocessVersion ?? UNKNOWN_PREPROCESS_VERSION }, registered: false, dir: null };
  }

  const registered = catalogue.listModels().map((m) => m.id);
  const choices = [...new Set([...registered, ...Object.keys(KNOWN_MODELS)])].join(', ');
  throw new RecipeError(`unknown model "${modelId}": not registered in this library, not a folder in the models directory, and not a known model (${choices})`);
}

async function findModelFolder(modelId: string, modelsDir: string | null): Promise<{ dir: string; dim: number; preprocessVersion: string } | null> {
  if (!modelsDir || modelId.split(/[\\/]/).some((part) => part === '..' || part === '')) return null;
  // Downloaded models may be kept as <owner>/<name> or as just <name>.
  const candidates = [path.join(modelsDir, modelId), path.join(modelsDir, path.basename(modelId))];
  for (const dir of candidates) {
    if (!existsSync(path.join(dir, 'config.json'))) continue;
    try {
      const folder = await loadModelFolder(dir, modelId);
      return { dir: folder.dir, dim: folder.dim, preprocessVersion: folder.preprocessVersion };
    } catch {
      // An incomplete folder (e.g. a download in progress) does not vouch for the id.
    }
  }
  return null;
}
