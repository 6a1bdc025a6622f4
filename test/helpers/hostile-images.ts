// Hostile and unusual image files made from scratch: decompression-bomb GIFs (tiny files, huge frames),
// multi-picture JPEGs (.mpo), and corrupt files that fail in distinct ways.
import sharp from 'sharp';

/**
 * A single-colour GIF of width × height (≤ 65535 each) written with GIF's LZW the way common encoders do
 * (omggif: a clear code when the code table is full). Runs of one colour compress ~1500:1, so a 16000×16000
 * frame, which a decoder holds as 1 GB of RGBA, is a file of ~170 KB; building it takes milliseconds.
 */
export function bombGif(width: number, height: number, colour: [number, number, number] = [200, 30, 30]): Buffer {
  const minCodeSize = 2;
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  const bytes: number[] = [];
  let bitBuffer = 0;
  let bitCount = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number): void => {
    bitBuffer |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      bytes.push(bitBuffer & 0xff);
      bitBuffer >>>= 8;
      bitCount -= 8;
    }
  };
  // Every pixel is colour 0, so each code in the table stands for a run of zeros: code 0 for one pixel,
  // then (from eoi + 1 on) runs of 2, 3, 4… pixels, in the order the encoder adds them.
  const codeOfRun = (run: number): number => (run === 1 ? 0 : eoi + 1 + (run - 2));
  emit(clear);
  let next = eoi + 1;
  let longestRun = 1;
  let remaining = width * height - 1;
  let current = 1;
  while (remaining > 0) {
    const extend = Math.min(longestRun - current, remaining);
    current += extend;
    remaining -= extend;
    if (remaining === 0) break;
    emit(codeOfRun(current));
    if (next === 4096) {
      emit(clear);
      codeSize = minCodeSize + 1;
      next = eoi + 1;
      longestRun = 1;
    } else {
      if (next >= 1 << codeSize) codeSize++;
      next++;
      longestRun = current + 1;
    }
    current = 1;
    remaining--;
  }
  emit(codeOfRun(current));
  emit(eoi);
  if (bitCount > 0) bytes.push(bitBuffer & 0xff);

  const header = Buffer.alloc(13 + 12 + 10 + 1);
  header.write('GIF89a', 0, 'latin1');
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header[10] = 0xf1; // global colour table, 8-bit colour resolution, 4 entries
  // colour table: entry 0 is the colour, the rest black
  header[13] = colour[0];
  header[14] = colour[1];
  header[15] = colour[2];
  const d = 25; // image descriptor
  header[d] = 0x2c;
  header.writeUInt16LE(width, d + 5);
  header.writeUInt16LE(height, d + 7);
  header[d + 10] = minCodeSize;
  const blocks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 255) {
    const chunk = bytes.slice(at, at + 255);
    blocks.push(Buffer.from([chunk.length, ...chunk]));
  }
  return Buffer.concat([header, ...blocks, Buffer.from([0x00, 0x3b])]);
}

/**
 * A multi-picture object (.mpo, as 3D and multi-shot cameras write): a JPEG carrying an APP2 "MPF" segment,
 * followed by a second JPEG. Decoders read the first picture.
 */
export async function mpoFile(first: [number, number, number], second: [number, number, number], width = 64, height = 48): Promise<Buffer> {
  const jpeg = (rgb: [number, number, number]) =>
    sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).jpeg({ quality: 95 }).toBuffer();
  const [a, b] = await Promise.all([jpeg(first), jpeg(second)]);
  // APP2 "MPF\0" + a minimal (big-endian) TIFF header: enough for tools to see the MP format; the picture
  // index is not needed by a decoder that reads the first image.
  const mpf = Buffer.concat([Buffer.from('MPF\0', 'latin1'), Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00])]);
  const app2 = Buffer.alloc(4);
  app2[0] = 0xff;
  app2[1] = 0xe2;
  app2.writeUInt16BE(mpf.length + 2, 2);
  return Buffer.concat([a.subarray(0, 2), app2, mpf, a.subarray(2), b]);
}

/** Corrupt files that fail in distinct ways, with what their recorded error must say. */
export async function corruptFiles(): Promise<{ name: string; bytes: Buffer; error: RegExp }[]> {
  const noise = (w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  const [jpeg, png, gif] = await Promise.all([noise(300, 200).jpeg().toBuffer(), noise(300, 200).png().toBuffer(), noise(120, 80).gif().toBuffer()]);
  return [
    { name: 'truncated.jpg', bytes: jpeg.subarray(0, jpeg.length >> 1), error: /VipsJpeg: premature end of JPEG image \(the file is truncated\)/ },
    { name: 'truncated.png', bytes: png.subarray(0, png.length >> 1), error: /libpng read error/ },
    { name: 'truncated.gif', bytes: gif.subarray(0, gif.length >> 1), error: /gifload.*Unexpected end of GIF source data/ },
    { name: 'diary.jpg', bytes: Buffer.from('Dear diary, today I saved a text file as .jpg\n'), error: /unsupported image format/ },
    { name: 'empty.png', bytes: Buffer.alloc(0), error: /the file is empty/ },
  ];
}
