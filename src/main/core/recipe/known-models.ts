// Which model ids an import may store vectors under. Vectors from an unknown model would silently poison
// search (text queries are embedded by the library's model), so the id must be one we can vouch for.
//
// The same published weights go by several names (the OpenAI `clip` package says "ViT-B/32", Hugging Face
// "openai/clip-vit-base-patch32", Immich "immich-app/ViT-B-32__openai"). Vectors imported under any of them
// are stored under the id the library's indexer will use, or else the canonical id, so that indexing
// afterwards embeds only the photos still missing instead of starting over under another name.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Catalogue, ModelRecord } from '../catalogue/catalogue.js';
import { modelDirName } from '../model/download.js';
import { loadModelFolder } from '../model/model-folder.js';
import { RecipeError } from './recipe-format.js';

export interface KnownModel {
  /** The id the app downloads and indexes with. */
  id: string;
  dim: number;
  /** Other names of the same weights (same vector space). */
  aliases: string[];
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  {
    id: 'immich-app/ViT-B-32__openai',
    dim: 512,
    aliases: ['ViT-B-32__openai', 'openai/clip-vit-base-patch32', 'ViT-B/32', 'ViT-B-32/openai'],
  },
];

/** Recorded as the preprocessing of imported vectors when neither the recipe nor a model folder says. */
export const UNKNOWN_PREPROCESS_VERSION = 'imported-unknown';

export function knownModel(modelId: string): KnownModel | null {
  return KNOWN_MODELS.find((m) => m.id === modelId || m.aliases.includes(modelId)) ?? null;
}

export interface ResolvedModel {
  /** The model the vectors are stored under (its id may differ from the one asked for: an alias). */
  model: ModelRecord;
  /** False when the import has to register it (it is known, but not in this catalogue yet). */
  registered: boolean;
  /** The model's folder, when it was found in the models directory. */
  dir: string | null;
}

/**
 * A model id is accepted when the catalogue already has it, when it is a known model (or an alias of
 * one), when it names a model folder in `modelsDir`, or when the recipe's manifest.json names it. Throws a RecipeError otherwise, or when the
 * dimension disagrees.
 */
export async function resolveImportModel(
  catalogue: Catalogue, modelId: string, dimension: number,
  options: { modelsDir: string | null; preprocessVersion?: string; currentModelId?: string | null; manifestModelId?: string },
): Promise<ResolvedModel> {
  if (!modelId.trim()) throw new RecipeError('a model id is required');
  const check = (record: { id: string; dim: number }, where: string) => {
    if (record.dim !== dimension) {
      const named = record.id === modelId ? `model ${modelId}` : `model ${record.id} (the same weights as ${modelId})`;
      throw new RecipeError(`the embeddings are ${dimension}-d but ${named} (${where}) is ${record.dim}-d`);
    }
  };

  const exact = catalogue.getModel(modelId);
  if (exact) {
    check(exact, 'registered in this library');
    return { model: exact, registered: true, dir: null };
  }

  const family = knownModel(modelId);
  if (family) {
    // Prefer the name this library already uses for these weights: its current model, then any registered one.
    const names = [family.id, ...family.aliases];
    const current = options.currentModelId && names.includes(options.currentModelId) ? catalogue.getModel(options.currentModelId) : null;
    const registered = current ?? names.map((id) => catalogue.getModel(id)).find((m) => m !== null) ?? null;
    if (registered) {
      check(registered, 'registered in this library');
      return { model: registered, registered: true, dir: null };
    }
    check(family, 'a known model');
    const folder = await findModelFolder(family.id, options.modelsDir);
    return {
      model: { id: family.id, dim: family.dim, preprocessVersion: options.preprocessVersion ?? folder?.preprocessVersion ?? UNKNOWN_PREPROCESS_VERSION },
      registered: false,
      dir: folder?.dim === family.dim ? folder.dir : null,
    };
  }

  const folder = await findModelFolder(modelId, options.modelsDir);
  if (folder) {
    check({ id: modelId, dim: folder.dim }, `model folder ${folder.dir}`);
    return { model: { id: modelId, dim: folder.dim, preprocessVersion: options.preprocessVersion ?? folder.preprocessVersion }, registered: false, dir: folder.dir };
  }

  // The recipe's own manifest.json names this model: it vouches for the id, its dimension (already checked
  // against the data) and the preprocessing, as when a library exported with a local model folder.
  if (options.manifestModelId === modelId && options.preprocessVersion) {
    return { model: { id: modelId, dim: dimension, preprocessVersion: options.preprocessVersion }, registered: false, dir: null };
  }

  const choices = [...new Set([...catalogue.listModels().map((m) => m.id), ...KNOWN_MODELS.flatMap((m) => [m.id, ...m.aliases])])].join(', ');
  throw new RecipeError(`unknown model "${modelId}": not registered in this library, not a known model, and not a folder in the models directory (known: ${choices})`);
}

async function findModelFolder(modelId: string, modelsDir: string | null): Promise<{ dir: string; dim: number; preprocessVersion: string } | null> {
  if (!modelsDir || modelId.split(/[\\/]/).some((part) => part === '..' || part === '' || part === '.')) return null;
  // Downloads are kept as <owner>__<name>; a folder the user copied in may be <name> or <owner>/<name>.
  const candidates = [modelDirName(modelId), modelId, path.basename(modelId)].map((name) => path.join(modelsDir, name));
  for (const dir of new Set(candidates)) {
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
