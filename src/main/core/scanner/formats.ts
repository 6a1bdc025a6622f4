// Which files are photos the app registers, by extension (case-insensitive). Registered formats are
// handed to the decoder; a registered file it cannot decode (e.g. HEIC without a HEIF decoder) is then
// recorded as 'unsupported' by the embedding pipeline, with the decoder's message.
// MPO (multi-picture object: stereo and multi-shot cameras) is a JPEG followed by more JPEGs; decoders read
// the first picture, so it is indexed as a JPEG.

/** Extensions registered in the catalogue. */
export const PHOTO_EXTENSIONS: ReadonlySet<string> = new Set([
  'jpg', 'jpeg', 'jpe', 'mpo', 'png', 'webp', 'tif', 'tiff', 'gif', 'avif', 'heic', 'heif',
]);

/**
 * Camera RAW formats registered as photos: TIFF-structured ones, Fujifilm RAF and Canon CR3 are read
 * through the JPEG preview the camera embeds (model/raw/raw-preview.ts); a file without a usable one is
 * recorded as unsupported, with the reason.
 */
export const RAW_PREVIEW_EXTENSIONS: ReadonlySet<string> = new Set([
  '3fr', 'arw', 'cr2', 'cr3', 'dcr', 'dng', 'erf', 'fff', 'iiq', 'kdc', 'mef', 'mos', 'nef', 'nrw', 'orf', 'pef',
  'raf', 'raw', 'rw2', 'rwl', 'sr2', 'srf', 'srw',
]);

/** Camera RAW formats of other containers (no preview reader): reported so the user knows they were seen. */
export const RAW_EXTENSIONS: ReadonlySet<string> = new Set(['ari', 'bay', 'crw', 'k25', 'mrw', 'x3f']);

/** Videos: the app searches stills only. */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '3gp', 'avi', 'flv', 'm2ts', 'm4v', 'mkv', 'mov', 'mp4', 'mpeg', 'mpg', 'mts', 'webm', 'wmv',
]);

/** Other image formats the decoder lacks. */
export const OTHER_UNSUPPORTED_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'bmp', 'ico', 'jxl', 'psd', 'svg', 'xcf', 'jp2', 'j2k', 'exr', 'hdr', 'tga', 'pcx',
]);

export type FileKind = 'photo' | 'raw' | 'video' | 'unsupported-image' | 'other';

/** Lower-case extension without the dot ('' when none). */
export function extensionOf(fileName: string): string {
  const slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
  const dot = fileName.lastIndexOf('.');
  return dot > slash + 1 ? fileName.slice(dot + 1).toLowerCase() : '';
}

export function classifyFile(fileName: string): FileKind {
  const ext = extensionOf(fileName);
  if (PHOTO_EXTENSIONS.has(ext) || RAW_PREVIEW_EXTENSIONS.has(ext)) return 'photo';
  if (RAW_EXTENSIONS.has(ext)) return 'raw';
  if (VIDEO_EXTENSIONS.has(ext)) return 'video';
  if (OTHER_UNSUPPORTED_IMAGE_EXTENSIONS.has(ext)) return 'unsupported-image';
  return 'other';
}
