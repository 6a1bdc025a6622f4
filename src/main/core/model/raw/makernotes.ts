// Previews that cameras keep in their maker notes (EXIF tag 0x927c) rather than in a TIFF directory,
// following ExifTool's description of each layout (MakerNotes.pm, Olympus.pm, Pentax.pm):
// - Olympus / OM System (ORF): "OLYMPUS\0" + byte order, IFD at +12, offsets from the maker note's
//   start ("OM SYSTEM\0…": IFD at +16); older "OLYMP\0" / "EPSON\0": IFD at +8, offsets from the
//   file's TIFF header. The preview: CameraSettings (0x2020) tags 0x101/0x102, or the main IFD's
//   0x1036/0x1037.
// - Pentax (PEF): "AOC\0" + byte order, IFD at +6, offsets from the file's TIFF header; the preview:
//   tags 0x0004 (start) / 0x0003 (length).
// Nothing here is trusted: the ranges go through the same checks as any other candidate.
import { subSource, type ByteSource } from './byte-source.js';
import { TiffReader, type ByteRange, type Entry } from './tiff-reader.js';

interface Layout {
  /** Where offsets count from (0: the file's TIFF header). */
  base: number;
  /** The maker note's IFD, from `base`. */
  ifd: number;
  littleEndian: boolean;
  maker: 'olympus' | 'pentax';
}

function byteOrder(mark: string, fallback: boolean): boolean {
  return mark === 'II' ? true : mark === 'MM' ? false : fallback;
}

function layoutOf(head: Buffer, at: number, fileLittleEndian: boolean): Layout | null {
  const text = head.toString('latin1');
  if (text.startsWith('OLYMPUS\0')) return { base: at, ifd: 12, littleEndian: byteOrder(text.slice(8, 10), fileLittleEndian), maker: 'olympus' };
  if (text.startsWith('OM SYSTEM\0')) return { base: at, ifd: 16, littleEndian: byteOrder(text.slice(12, 14), fileLittleEndian), maker: 'olympus' };
  if (text.startsWith('OLYMP\0') || text.startsWith('EPSON\0')) return { base: 0, ifd: at + 8, littleEndian: fileLittleEndian, maker: 'olympus' };
  if (text.startsWith('AOC\0')) return { base: 0, ifd: at + 6, littleEndian: byteOrder(text.slice(4, 6), fileLittleEndian), maker: 'pentax' };
  return null;
}

/** The preview ranges (from the file's start) a maker note at `at` names; none for makers not handled. */
export async function makerNotePreviews(source: ByteSource, at: number, fileLittleEndian: boolean): Promise<ByteRange[]> {
  const layout = layoutOf(await source.read(at, 16), at, fileLittleEndian);
  if (!layout) return [];
  const reader = new TiffReader(layout.base ? subSource(source, layout.base, source.size - layout.base) : source, layout.littleEndian);
  const main = await reader.directory(layout.ifd);
  if (!main) return [];
  const out: ByteRange[] = [];
  const add = async (start: Entry | undefined, length: Entry | undefined): Promise<void> => {
    const [offset] = await reader.numbers(start);
    const [bytes] = await reader.numbers(length);
    if (offset && bytes) out.push({ offset: layout.base + offset, length: bytes });
  };
  if (layout.maker === 'pentax') {
    await add(main.entries.get(0x0004), main.entries.get(0x0003));
    return out;
  }
  await add(main.entries.get(0x1036), main.entries.get(0x1037));
  const settings = main.entries.get(0x2020);
  if (settings) {
    // An IFD pointer, or (older cameras) the directory stored as the entry's own value.
    const offset = settings.type === 7 ? settings.valueAt : (await reader.numbers(settings))[0];
    const dir = offset ? await reader.directory(offset) : null;
    if (dir) await add(dir.entries.get(0x101), dir.entries.get(0x102));
  }
  return out;
}
