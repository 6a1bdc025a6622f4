// Layer boundaries (as in VS Code): each runtime environment may import only what it can run.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nativeModules = ['better-sqlite3', 'sharp', 'onnxruntime-node', 'faiss-node', 'heic-decode', 'libheif-js'];
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'url', 'stream', 'events', 'util'];
const pattern = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['.*', '.*/**', 'dist/**', 'node_modules/**', 'release/**', 'out/**', 'test-artifacts/**', 'models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/shared/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern([...nodeBuiltins, 'electron', 'react', 'react-dom', ...nativeModules],
          'src/shared is pure: no node, electron, DOM or native modules.'),
        pattern(['**/main/**', '**/renderer/**', '**/preload/**'], 'src/shared imports only src/shared.'),
      ] }],
    },
  },
  {
    files: ['src/main/core/**', 'src/main/cli/**', 'src/main/host/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron'], 'The core runs under plain Node: no electron.'),
        pattern(['**/electron/**', '**/renderer/**', '**/preload/**'], 'The core does not import the Electron glue or the UI.'),
      ] }],
    },
  },
  {
    // Dependencies inside the main side point one way: host -> core, never core -> host.
    files: ['src/main/core/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron'], 'The core runs under plain Node: no electron.'),
        pattern(['**/electron/**', '**/renderer/**', '**/preload/**', '**/host/**', '**/cli/**'], 'The core imports neither the host, the CLI, the Electron glue nor the UI.'),
      ] }],
    },
  },
  {
    // The Electron main process stays light: windows, menus, dialogs, protocols and relaying. The library
    // (core) and every native addon live in the library host, a plain Node process.
    files: ['src/main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        // core/inside is the one path-containment check (pure path arithmetic); nothing else of the core.
        pattern(['**/core/**', '!**/core/inside.js', '**/cli/**', '**/host/library-host*', '**/renderer/**', '**/preload/**'],
          'The Electron main process relays to the library host: it imports src/shared, core/inside, host-client and host-protocol only.'),
        pattern(nativeModules, 'No native addon or image decoder in an Electron process (ABI and, on Linux, GLib clashes).'),
      ] }],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern([...nodeBuiltins, 'electron', ...nativeModules],
          'The renderer runs in a sandboxed page: no node or electron.'),
        pattern(['**/main/**', '**/preload/**'], 'The renderer imports only src/shared (and UI libraries).'),
      ] }],
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['**/main/**', '**/renderer/**'], 'The preload imports only electron and src/shared.'),
        pattern(nativeModules, 'No native addon in an Electron process.'),
      ] }],
    },
  },
);
