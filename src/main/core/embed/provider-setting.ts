// The library's execution provider setting (the app's settings drawer; the CLI's --provider overrides it for a
// run). Kept in the library's settings table: 'auto' suits any machine the library is opened on, and an explicit
// provider the machine lacks falls back to the CPU with a reason (execution-providers.ts).
import type { Catalogue } from '../catalogue/catalogue.js';
import type { ProviderChoice } from '../../../shared/types.js';
import { isProviderChoice } from '../model/execution-providers.js';

const SETTING = 'execution_provider';

/** The stored choice; 'auto' when none is stored (or a value this version does not know). */
export function providerSetting(catalogue: Catalogue): ProviderChoice {
  const stored = catalogue.getSetting(SETTING);
  return isProviderChoice(stored) ? stored : 'auto';
}

export function setProviderSetting(catalogue: Catalogue, choice: ProviderChoice): void {
  if (!isProviderChoice(choice)) throw new RangeError(`unknown execution provider: ${String(choice)}`);
  catalogue.setSetting(SETTING, choice === 'auto' ? null : choice);
}
