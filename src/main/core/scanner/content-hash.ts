// Content hash of a photo: sha256 of the file's bytes, hex. The embedding pipeline hashes the buffer it
// already read; the scanner streams a file when it needs to recognise a moved photo. Both must agree.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function hashBuffer(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of a whole file, streamed (constant memory whatever the file size). */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
