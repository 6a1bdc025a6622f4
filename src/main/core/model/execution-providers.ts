// Which ONNX Runtime execution provider runs the image tower. Each platform has an ordered list of candidates;
// 'auto' tries them in order, an explicit choice tries that one and then the CPU. A provider that cannot load
// (or, where a next one exists, fails a first small run) is passed over with its reason, so the caller can say
// which provider runs and why.
//
// What onnxruntime-node 1.30 ships (listSupportedBackends): linux-x64 has cpu and webgpu compiled in and cuda
// and tensorrt as separate libraries (`bundled: false`) that its install script downloads from NuGet
// (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so); win32 bundles DirectML.dll; darwin
// arm64 has CoreML. Without the CUDA libraries, InferenceSession.create with ['cuda'] fails with "Failed to load
// shared library" after ORT logs two error lines, so a missing library is reported without trying.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { ExecutionProvider, ProviderChoice } from '../../../shared/types.js';
import { PROVIDER_LABELS } from '../../../shared/embedding-runtime.js';

const PLATFORM_PROVIDERS: Partial<Record<NodeJS.Platform, ExecutionProvider[]>> = {
  linux: ['cuda', 'cpu'],
  win32: ['cuda', 'dml', 'cpu'],
  darwin: ['coreml', 'cpu'],
};

const PLATFORM_NAMES: Partial<Record<NodeJS.Platform, string>> = { linux: 'Linux', win32: 'Windows', darwin: 'macOS' };

/** The providers 'auto' tries on a platform, best first; the CPU is always last. */
export function platformProviders(platform: NodeJS.Platform = process.platform): ExecutionProvider[] {
  return PLATFORM_PROVIDERS[platform] ?? ['cpu'];
}

/**
 * The providers to try for a choice, in order. An explicit provider is followed by the CPU, also where the
 * platform lacks it (a library set to DirectML opened on Linux still indexes, and says why on the CPU).
 */
export function providerCandidates(choice: ProviderChoice, platform: NodeJS.Platform = process.platform): ExecutionProvider[] {
  if (choice === 'auto') return platformProviders(platform);
  return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
}

export function isProviderChoice(value: unknown): value is ProviderChoice {
  return value === 'auto' || (typeof value === 'string' && Object.hasOwn(PROVIDER_LABELS, value));
}

export interface ProviderEnvironment {
  platform: NodeJS.Platform;
  /** onnxruntime-node's listSupportedBackends(). */
  backends: { name: string; bundled: boolean }[];
  /** The folder holding onnxruntime-node's native libraries for this platform. */
  binDir: string;
  exists: (file: string) => boolean;
}

/** Why a provider cannot run here before anything is tried, or null when it may (creating a session tells). */
export function unavailableReason(provider: ExecutionProvider, env: ProviderEnvironment = localEnvironment()): string | null {
  if (provider === 'cpu') return null;
  const label = PROVIDER_LABELS[provider];
  if (!platformProviders(env.platform).includes(provider)) {
    const where = provider === 'dml' ? 'Windows' : provider === 'coreml' ? 'macOS' : 'Linux and Windows';
    return `${label} runs only on ${where}, not on ${PLATFORM_NAMES[env.platform] ?? env.platform}`;
  }
  const backend = env.backends.find((b) => b.name === provider);
  if (!backend) return `this onnxruntime-node build has no ${label} provider`;
  if (!backend.bundled) {
    const missing = providerLibraries(provider, env.platform).filter((file) => !env.exists(path.join(env.binDir, file)));
    if (missing.length > 0) {
      return `onnxruntime-node's ${label} libraries are not installed: ${missing.join(' and ')} missing; ` +
        'npm install downloads them unless ONNXRUNTIME_NODE_INSTALL=skip';
    }
  }
  return null;
}

/** The provider libraries onnxruntime-node downloads at install for a provider it does not bundle. */
function providerLibraries(provider: ExecutionProvider, platform: NodeJS.Platform): string[] {
  const lib = (name: string): string => (platform === 'win32' ? `onnxruntime_providers_${name}.dll` : `libonnxruntime_providers_${name}.so`);
  return [lib(provider), lib('shared')];
}

let environment: ProviderEnvironment | null = null;

function localEnvironment(): ProviderEnvironment {
  if (!environment) {
    // dist/index.js → ../bin/napi-v6/<platform>/<arch>, as onnxruntime-node's own binding.js loads it
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    environment = {
      platform: process.platform,
      backends: ort.listSupportedBackends(),
      binDir: path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch),
      exists: existsSync,
    };
  }
  return environment;
}

/** The libraries `ldd` reports as "not found". */
export function missingFromLdd(output: string): string[] {
  return output.split('\n').flatMap((line) => /^\s*(\S+)\s+=>\s+not found/.exec(line)?.[1] ?? []);
}

function lddOutput(file: string): string | null {
  try {
    return execFileSync('ldd', [file], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

/**
 * What ORT's "Failed to load shared library" means for CUDA on Linux (its details go only to its log): the
 * libraries the provider library needs that the system lacks, per `ldd`. Null where that tells nothing more.
 */
export function explainLoadFailure(
  provider: ExecutionProvider,
  env: ProviderEnvironment = localEnvironment(),
  ldd: (file: string) => string | null = lddOutput,
): string | null {
  if (provider !== 'cuda' || env.platform !== 'linux') return null;
  const output = ldd(path.join(env.binDir, providerLibraries('cuda', 'linux')[0]));
  const missing = output === null ? [] : missingFromLdd(output);
  if (missing.length === 0) return null;
  return `onnxruntime-node's CUDA provider needs ${missing.join(', ')}, not found: CUDA 12 and cuDNN 9 are required`;
}

export interface Fallback {
  provider: ExecutionProvider;
  reason: string;
}

export interface ProviderTrial<S> {
  /** Creates the session on one provider (throws when it cannot). */
  create(provider: ExecutionProvider): Promise<S>;
  /** A small real run; throws when the provider cannot run the model. */
  warmUp(session: S): Promise<void>;
  release(session: S): Promise<void>;
}

/**
 * The first candidate that loads and, unless it is the last, runs a warm-up; the ones before it are returned with
 * why they were passed over. When the last one fails too, its error is thrown as is (a broken model still reads
 * as a broken model, not as a missing GPU).
 */
export async function openWithFallback<S>(
  candidates: readonly ExecutionProvider[],
  trial: ProviderTrial<S>,
): Promise<{ session: S; provider: ExecutionProvider; fallbacks: Fallback[] }> {
  if (candidates.length === 0) throw new RangeError('no execution provider to try');
  const fallbacks: Fallback[] = [];
  for (const [i, provider] of candidates.entries()) {
    const last = i === candidates.length - 1;
    let session: S | null = null;
    try {
      session = await trial.create(provider);
      if (!last) await trial.warmUp(session);
      return { session, provider, fallbacks };
    } catch (error) {
      if (session !== null) await trial.release(session).catch(() => undefined);
      if (last) throw error;
      fallbacks.push({ provider, reason: conciseReason(error) });
    }
  }
  throw new Error('unreachable');
}

// eslint-disable-next-line no-control-regex -- ORT colours its log text with ANSI escapes
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/**
 * One line from an ORT error (the cause of a wrapped one: ORT's own words): its first line, without colour
 * codes or ORT's source locations, at most 300 characters.
 */
export function conciseReason(error: unknown): string {
  const cause = (error as Error)?.cause;
  const message = (cause instanceof Error ? cause : (error as Error))?.message || String(error);
  const line = message.replace(ANSI_COLOUR, '').split('\n').map((l) => l.trim()).find(Boolean) ?? 'unknown error';
  const text = line.replace(/^\/\S+:\d+ /, '');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
