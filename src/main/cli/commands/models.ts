// photo-search models: the models the app offers, with their download size, languages, measured speed and
// what choosing one costs (a text tower for the same vectors, or embedding every photo again).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { modelDirName } from '../../core/model/download.js';
import { defaultModelsDir } from '../../core/paths.js';
import { MODEL_CATALOGUE } from '../../core/recipe/known-models.js';
import { formatBytes, shortModelName } from '../../core/search/text-towers.js';
import { parseCommandArgs } from '../args.js';

export const usage = 'models [--json]   (the model catalogue: sizes, languages, speed, what each choice costs)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } });
  const modelsDir = defaultModelsDir();
  const models = MODEL_CATALOGUE.map((m) => {
    const dir = path.join(modelsDir, modelDirName(m.id));
    return {
      id: m.id,
      role: m.role,
      space: m.space,
      dim: m.dim,
      default: m.isDefault,
      languages: m.languages,
      downloadBytes: m.downloadBytes,
      downloadSize: m.sizeNote,
      speed: m.speed ?? 'not measured here',
      cost: m.cost,
      reembed: m.role === 'image+text' && !m.isDefault,
      unsupported: m.unsupported,
      installed: existsSync(path.join(dir, 'config.json')) ? dir : null,
    };
  });
  if (values.json) {
    console.log(JSON.stringify({ modelsDir, models }, null, 2));
    return 0;
  }
  const lines: string[] = [];
  for (const m of models) {
    lines.push(`${shortModelName(m.id)}${m.default ? '  (default)' : ''}`);
    lines.push(`  repository  ${m.id}`);
    lines.push(`  what        ${m.role === 'text' ? `a text tower for the vectors of ${shortModelName(m.space)}` : `image and text towers, ${m.dim}-d vectors`}`);
    lines.push(`  languages   ${m.languages}`);
    lines.push(`  download    ${formatBytes(m.downloadBytes)}: ${m.downloadSize}`);
    lines.push(`  speed       ${m.speed}`);
    lines.push(`  choosing it ${m.cost}`);
    if (m.unsupported) lines.push(`  not usable  ${m.unsupported}`);
    lines.push(`  installed   ${m.installed ?? 'no'}`, '');
  }
  lines.push(`Models folder: ${modelsDir} (PHOTO_SEARCH_MODELS_DIR overrides it). Sizes are estimates from parameter`);
  lines.push('counts; the download shows the exact size. Search quality is not measured here.');
  console.log(lines.join('\n'));
  return 0;
}
