// Which writing system a query is in, so that search can pick a text tower that reads it (an English-only
// CLIP text tower turns Hebrew or Chinese into noise). Only the script is detected, not the language:
// French and English are both Latin.

export type Script =
  | 'latin' | 'hebrew' | 'arabic' | 'cyrillic' | 'greek' | 'cjk' | 'hangul' | 'thai' | 'devanagari' | 'other';

/** Human names, for messages. */
export const SCRIPT_NAMES: Record<Script, string> = {
  latin: 'Latin-script',
  hebrew: 'Hebrew',
  arabic: 'Arabic-script',
  cyrillic: 'Cyrillic-script',
  greek: 'Greek',
  cjk: 'Chinese or Japanese',
  hangul: 'Korean',
  thai: 'Thai',
  devanagari: 'Devanagari-script',
  other: 'non-Latin',
};

const SCRIPT_PATTERNS: [Exclude<Script, 'other'>, RegExp][] = [
  ['latin', /\p{Script=Latin}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['greek', /\p{Script=Greek}/u],
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['thai', /\p{Script=Thai}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
];

/**
 * The query's script: the script of most of its letters, where any letter outside Latin counts first
 * ("IMG אדום" is Hebrew: a tower that reads only Latin would drop the word that matters). Null when the
 * query has no letters (digits, punctuation).
 */
export function detectScript(text: string): Script | null {
  const counts = new Map<Script, number>();
  for (const char of text) {
    if (!/\p{L}/u.test(char)) continue;
    const script = SCRIPT_PATTERNS.find(([, pattern]) => pattern.test(char))?.[0] ?? 'other';
    counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  if (counts.size === 0) return null;
  let best: Script | null = null;
  let bestCount = 0;
  for (const [script, count] of counts) {
    if (script !== 'latin' && count > bestCount) {
      best = script;
      bestCount = count;
    }
  }
  return best ?? 'latin';
}
