// Which text tower reads a query. A library's vectors come from one image tower; any text tower trained
// into that image space can search them (M-CLIP's multilingual XLM-R tower searches the vectors that
// OpenAI's ViT-B/32 computed, with no re-embedding). The query's script decides: an English-only tower
// reads Latin-script queries; a Hebrew, Arabic, Chinese… query goes to an installed tower that reads it,
// and when there is none the search says so and offers one, instead of answering with noise.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelOffer, SearchNotice, SearchResponse } from '../../../shared/types.js';
import { modelDirName } from '../model/download.js';
import { loadModelFolder, type ModelFolder } from '../model/model-folder.js';
import { catalogueModel, MODEL_CATALOGUE, readsScript, textTowersFor, type CatalogueModel } from '../recipe/known-models.js';
import { detectScript, SCRIPT_NAMES, type Script } from './query-script.js';

export interface TextTowerChoice {
  /** The folder whose text tower reads the query; null when none at hand does (nothing is searched). */
  folder: ModelFolder | null;
  notice: SearchNotice | null;
}

/** "immich-app/ViT-B-32__openai" (or its folder's name, "immich-app__ViT-B-32__openai") → "ViT-B-32__openai". */
export function shortModelName(modelId: string): string {
  const id = catalogueModel(modelId)?.id ?? modelId;
  return id.includes('/') ? id.slice(id.indexOf('/') + 1) : id;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export class TextTowerChooser {
  private readonly loaded = new Map<string, ModelFolder>();

  /** `modelsDir`: where downloaded models live (other text towers are looked for there); null: nowhere. */
  constructor(private readonly modelsDir: string | null) {}

  /**
   * The tower for `query`: the current folder's own when it reads the query's script (or when the model is
   * not in the catalogue: nothing is known of its languages), else an installed tower that shares the
   * library's image space and reads it, else none, with a notice that says so and offers one.
   */
  async choose(query: string, imageModelId: string, current: ModelFolder): Promise<TextTowerChoice> {
    const script = detectScript(query);
    if (script === null || readsScript(current.modelId, script)) return { folder: current, notice: null };
    const scriptName = SCRIPT_NAMES[script];
    const currentName = shortModelName(current.modelId);
    const towers = textTowersFor(imageModelId, script).filter((m) => m.id !== current.modelId);
    for (const tower of towers) {
      const folder = await this.installed(tower.id, current.dim);
      if (!folder) continue;
      return {
        folder,
        notice: {
          kind: 'other-text-model',
          script: scriptName,
          textModelId: tower.id,
          message: `${currentName} reads English only, so this ${scriptName} query was read by ${shortModelName(tower.id)}, ` +
            'which searches the same photo vectors.',
        },
      };
    }
    return { folder: null, notice: cannotRead(currentName, scriptName, towers[0] ?? otherModelFor(script)) };
  }

  private async installed(modelId: string, dim: number): Promise<ModelFolder | null> {
    const known = this.loaded.get(modelId);
    if (known) return known;
    if (!this.modelsDir) return null;
    const dir = path.join(this.modelsDir, modelDirName(modelId));
    if (!existsSync(path.join(dir, 'config.json'))) return null;
    try {
      const folder = await loadModelFolder(dir, modelId);
      if (folder.dim !== dim) return null;
      this.loaded.set(modelId, folder);
      return folder;
    } catch {
      return null; // incomplete (a download in progress) or broken: not a tower to use
    }
  }
}

function cannotRead(currentName: string, scriptName: string, offer: CatalogueModel | null): SearchNotice {
  let message = `${currentName} reads English only: it cannot read this ${scriptName} query, so nothing was searched.`;
  if (offer) {
    const name = shortModelName(offer.id);
    message += offer.role === 'text'
      ? ` ${name} reads ${scriptName} and searches the photos already indexed, with no re-embedding (download about ${formatBytes(offer.downloadBytes)}).`
      : ` ${name} reads ${scriptName}, but every photo would be embedded again (download about ${formatBytes(offer.downloadBytes)}).`;
  }
  const modelOffer: ModelOffer | undefined = offer
    ? { modelId: offer.id, downloadBytes: offer.downloadBytes, languages: offer.languages, reembed: offer.role !== 'text' }
    : undefined;
  return { kind: 'cannot-read', script: scriptName, message, ...(modelOffer ? { offer: modelOffer } : {}) };
}

/** A catalogue model with its own image tower that reads `script` (re-embedding), when no text tower fits. */
function otherModelFor(script: Script): CatalogueModel | null {
  return MODEL_CATALOGUE.find((m) => m.role === 'image+text' && m.unsupported === null && (m.scripts === 'any' || m.scripts.includes(script))) ?? null;
}

/** The response with the notice, when there is one. */
export function withNotice(response: SearchResponse, notice: SearchNotice | null): SearchResponse {
  return notice ? { ...response, notice } : response;
}

/** Whether a catalogue model is a text tower for another model's vectors (downloading it keeps the library's model). */
export function isTextTowerFor(modelId: string, imageModelId: string): boolean {
  const entry = catalogueModel(modelId);
  const space = catalogueModel(imageModelId)?.space;
  return entry !== null && entry.role === 'text' && space !== undefined && entry.space === space;
}
