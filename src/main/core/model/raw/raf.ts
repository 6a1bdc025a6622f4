// Fujifilm RAF: a header ("FUJIFILMCCD-RAW") that gives the embedded JPEG's offset and length at
// bytes 84 and 88 (big-endian). The JPEG carries the camera's EXIF and orientation.
import type { ByteRange } from './tiff-walk.js';

export function rafJpegRange(head: Buffer): ByteRange | null {
  if (head.length < 92 || head.toString('latin1', 0, 15) !== 'FUJIFILMCCD-RAW') return null;
  return { offset: head.readUInt32BE(84), length: head.readUInt32BE(88) };
}
