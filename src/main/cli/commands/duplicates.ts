// photo-search duplicates: lists groups of exact and near-duplicate photos (nothing is moved or deleted).
import { Library } from '../../core/library.js';
import { DEFAULT_MAX_HASH_DISTANCE, DEFAULT_THRESHOLD, DEFAULT_UNVERIFIED_THRESHOLD, findDuplicates } from '../../core/duplicates/duplicates.js';
import { UsageError, libraryDirFrom, parseCommandArgs } from '../args.js';

export const usage = `duplicates [--json] [--threshold T] [--hash-distance H] [--no-verify] [--perceptual] [--model ID] [--library DIR]   list duplicate photos (cosine ≥ ${DEFAULT_THRESHOLD} confirmed by dHash ≤ ${DEFAULT_MAX_HASH_DISTANCE}; ${DEFAULT_UNVERIFIED_THRESHOLD} with --no-verify)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    json: { type: 'boolean' },
    threshold: { type: 'string' },
    'hash-distance': { type: 'string' },
    'no-verify': { type: 'boolean' },
    perceptual: { type: 'boolean' },
    model: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold > 0 && threshold <= 1)) throw new UsageError(`--threshold must be a number in (0, 1], got ${values.threshold}`);
  const hashDistance = values['hash-distance'] === undefined ? undefined : Number(values['hash-distance']);
  if (hashDistance !== undefined && !(Number.isInteger(hashDistance) && hashDistance >= 0 && hashDistance <= 64)) {
    throw new UsageError(`--hash-distance must be an integer 0–64, got ${values['hash-distance']}`);
  }

  const library = Library.openExisting(libraryDirFrom(values.library));
  try {
    let last = 0;
    const report = await findDuplicates(library, {
      mode: values.perceptual ? 'perceptual' : 'vectors',
      modelId: values.model,
      threshold,
      maxHashDistance: hashDistance,
      verify: !values['no-verify'],
      onProgress: (stage, done, total) => {
        if (!process.stderr.isTTY || Date.now() - last < 500) return;
        last = Date.now();
        process.stderr.write(`\r${stage} ${done}/${total}   `);
      },
    });
    if (last) process.stderr.write('\n');
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    const s = report.stats;
    if (s.mode === 'vectors' && !s.modelId) console.warn('no model chosen: only exact copies (same content hash) are listed; try --perceptual');
    for (const [i, group] of report.groups.entries()) {
      console.log(`group ${i + 1}: ${group.kind}, ${group.photos.length} photos, lowest similarity ${group.similarity.toFixed(3)}`);
      for (const p of group.photos) {
        const size = p.width && p.height ? `${p.width}×${p.height}` : '?×?';
        console.log(`  ${p.id === group.keepId ? 'keep ' : 'copy '} ${p.path}  (${size}, ${p.size} bytes)`);
      }
    }
    const copies = report.groups.reduce((n, g) => n + g.photos.length - 1, 0);
    console.log(`${report.groups.length} group(s), ${copies} removable cop${copies === 1 ? 'y' : 'ies'}; searched ${s.searched} ` +
      `${s.mode === 'vectors' ? 'vectors' : 'photo hashes'}, ${s.candidatePairs} candidate pair(s), ${s.confirmedPairs} confirmed` +
      (s.unreadable ? `, ${s.unreadable} unreadable` : ''));
    return 0;
  } finally {
    library.close();
  }
}
