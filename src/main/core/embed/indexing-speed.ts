// This machine's measured embedding speed, kept in the catalogue: what switching models would cost is
// estimated from it (photos to embed ÷ photos/s) rather than from a figure measured elsewhere.
import type { Catalogue } from '../catalogue/catalogue.js';

const SETTING = 'indexing_speed';
/** A run shorter than this says more about start-up than about speed. */
const MIN_PHOTOS = 32;

export interface IndexingSpeed {
  modelId: string;
  photosPerSecond: number;
  measuredAt: number;
}

export function recordIndexingSpeed(catalogue: Catalogue, modelId: string, photos: number, durationMs: number): void {
  if (photos < MIN_PHOTOS || durationMs <= 0) return;
  const speed: IndexingSpeed = { modelId, photosPerSecond: (photos * 1000) / durationMs, measuredAt: Date.now() };
  catalogue.setSetting(SETTING, JSON.stringify(speed));
}

/** The speed of the last indexing run long enough to tell, or null. */
export function lastIndexingSpeed(catalogue: Catalogue): IndexingSpeed | null {
  const raw = catalogue.getSetting(SETTING);
  if (!raw) return null;
  try {
    const speed = JSON.parse(raw) as IndexingSpeed;
    return typeof speed.photosPerSecond === 'number' && speed.photosPerSecond > 0 ? speed : null;
  } catch {
    return null;
  }
}
