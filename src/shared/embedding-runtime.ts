// How an indexing run's image tower runs, in words: the CLI's line and the app's indexing panel say the same.
import type { EmbeddingRuntime, ExecutionProvider } from './types.js';

export const PROVIDER_LABELS: Record<ExecutionProvider, string> = { cpu: 'the CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML' };

const TUNING_WORDS: Record<EmbeddingRuntime['tuning'], string> = {
  calibrated: 'measured on this computer',
  remembered: 'as measured on this computer before',
  given: 'as given',
  default: 'defaults',
};

/** "CUDA unavailable (…); embedding on the CPU": which provider runs and why the ones before it did not. */
export function describeProvider(provider: ExecutionProvider, fallbacks: readonly { provider: ExecutionProvider; reason: string }[]): string {
  const passed = fallbacks.map((f) => `${PROVIDER_LABELS[f.provider]} unavailable (${f.reason})`);
  const text = [...passed, `embedding on ${PROVIDER_LABELS[provider]}`].join('; ');
  return text[0].toUpperCase() + text.slice(1);
}

/** describeProvider plus the settings: "…; embedding on the CPU, 2 threads, batches of 16 (measured on this computer)". */
export function describeRuntime(runtime: EmbeddingRuntime): string {
  return `${describeProvider(runtime.provider, runtime.fallbacks)}, ${runtime.threads} thread${runtime.threads === 1 ? '' : 's'}, ` +
    `batches of ${runtime.batchSize} (${TUNING_WORDS[runtime.tuning]})`;
}
