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
import { UNKNOWN_PREPROCESS_VERSION } from '../catalogue/embeddings.js';
import { modelDirName } from '../model/download.js';
import { loadModelFolder } from '../model/model-folder.js';
import { int8SourceId } from '../model/int8/int8-folder.js';
import { RecipeError } from './recipe-format.js';
import type { Script } from '../search/query-script.js';

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
  { id: 'immich-app/ViT-B-32__laion2b-s34b-b79k', dim: 512, aliases: ['ViT-B-32__laion2b-s34b-b79k', 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K'] },
  { id: 'immich-app/nllb-clip-base-siglip__v1', dim: 768, aliases: ['nllb-clip-base-siglip__v1'] },
];

// ---------- the model catalogue: what a user can choose, and what each choice costs ----------

/**
 * One model the app offers. `space` names the image space its vectors live in: a model with its own image
 * tower has its own space (choosing it means embedding every photo again); a text tower trained into another
 * model's space (M-CLIP) searches the vectors that model already computed.
 */
export interface CatalogueModel {
  /** Hugging Face repository in the Immich layout. */
  id: string;
  /** 'image+text': both towers, its own vector space. 'text': a text tower for another model's space. */
  role: 'image+text' | 'text';
  /** The id of the model whose image vectors this model's text vectors are compared with. */
  space: string;
  dim: number;
  isDefault: boolean;
  /** Scripts the text tower reads; 'any' for the multilingual towers. */
  scripts: readonly Script[] | 'any';
  languages: string;
  /** Approximate download, in bytes (see sizeNote: not read from the hub). */
  downloadBytes: number;
  sizeNote: string;
  /** Speed measured on this project's machine, or null: nothing is claimed that was not measured. */
  speed: string | null;
  /** What choosing it costs a library indexed with the default model. */
  cost: string;
  /** Why this app cannot use it yet, when it cannot. */
  unsupported: string | null;
}

const VIT_B32_SPEED = 'ViT-B/32 architecture (same cost, random weights) on 2 cores: 21–49 photos/s indexing, 19–46 ms a query (docs/BENCHMARKS.md)';

export const MODEL_CATALOGUE: readonly CatalogueModel[] = [
  {
    id: 'immich-app/ViT-B-32__openai',
    role: 'image+text',
    space: 'immich-app/ViT-B-32__openai',
    dim: 512,
    isDefault: true,
    scripts: ['latin'],
    languages: 'English',
    downloadBytes: 605_000_000,
    sizeNote: 'about 600 MB (151M float32 parameters, both towers)',
    speed: VIT_B32_SPEED,
    cost: 'the default: nothing',
    unsupported: null,
  },
  {
    id: 'immich-app/XLM-Roberta-Large-Vit-B-32',
    role: 'text',
    space: 'immich-app/ViT-B-32__openai',
    dim: 512,
    isDefault: false,
    scripts: 'any',
    languages: 'about 50 languages (M-CLIP), Hebrew, Arabic, Russian, Chinese, Japanese and the European languages among them',
    downloadBytes: 2_600_000_000,
    sizeNote: 'about 2.6 GB estimated (XLM-RoBERTa large text tower, 560M float32 parameters, plus the ViT-B/32 image tower it ships with)',
    speed: null,
    cost: 'no re-embedding: it searches the vectors ViT-B-32__openai already computed; used for queries the default model cannot read',
    unsupported: null,
  },
  {
    id: 'immich-app/ViT-B-32__laion2b-s34b-b79k',
    role: 'image+text',
    space: 'immich-app/ViT-B-32__laion2b-s34b-b79k',
    dim: 512,
    isDefault: false,
    scripts: ['latin'],
    languages: 'English',
    downloadBytes: 605_000_000,
    sizeNote: 'about 600 MB (same architecture as the default)',
    speed: VIT_B32_SPEED,
    cost: 'every photo is embedded again (its own vector space)',
    unsupported: null,
  },
  {
    id: 'immich-app/nllb-clip-base-siglip__v1',
    role: 'image+text',
    space: 'immich-app/nllb-clip-base-siglip__v1',
    dim: 768,
    isDefault: false,
    scripts: 'any',
    languages: 'about 200 languages (NLLB-200), Hebrew included',
    downloadBytes: 2_000_000_000,
    sizeNote: 'about 2 GB estimated (NLLB-200 600M encoder and a SigLIP ViT-B/16 image tower)',
    speed: null,
    cost: 'every photo is embedded again (its own 768-d vector space)',
    unsupported: 'its text tower needs the query\'s language code (FLORES-200) before the text, which this app does not add yet',
  },
];

/**
 * The catalogue entry of a model id, of one of its aliases (the bare Immich name, for instance), or of the
 * name of its downloaded folder ("immich-app__ViT-B-32__openai": the id a folder chosen by path gets).
 */
export function catalogueModel(modelId: string): CatalogueModel | null {
  // An int8 image tower is derived from its fp32 one and shares its vector space (and so its text towers).
  const base = int8SourceId(modelId) ?? modelId;
  const canonical = knownModel(base)?.id ?? base;
  return MODEL_CATALOGUE.find((m) => m.id === canonical || m.id.split('/')[1] === canonical || modelDirName(m.id) === canonical) ?? null;
}

/** Whether a model's text tower reads a script; true when the model is not in the catalogue (unknown). */
export function readsScript(modelId: string, script: Script): boolean {
  const entry = catalogueModel(modelId);
  if (!entry) return true;
  return entry.scripts === 'any' || entry.scripts.includes(script);
}

/** Text towers of the catalogue that search the vectors of `imageModelId` and read `script`. */
export function textTowersFor(imageModelId: string, script: Script): CatalogueModel[] {
  const space = catalogueModel(imageModelId)?.space;
  if (!space) return [];
  return MODEL_CATALOGUE.filter((m) => m.space === space && m.unsupported === null && (m.scripts === 'any' || m.scripts.includes(script)));
}

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
