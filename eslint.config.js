// Layer boundaries (as in VS Code): each runtime environment may import only what it can run.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
        pattern([...nodeBuiltins, 'electron', 'react', 'react-dom', 'better-sqlite3', 'sharp', 'onnxruntime-node', 'faiss-node'],
          'src/shared is pure: no node, electron, DOM or native modules.'),
        pattern(['**/main/**', '**/renderer/**', '**/preload/**'], 'src/shared imports only src/shared.'),
      ] }],
    },
  },
  {
    files: ['src/main/core/**', 'src/main/cli/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron'], 'The core runs under plain Node: no electron.'),
        pattern(['**/electron/**', '**/renderer/**', '**/preload/**'], 'The core does not import the Electron glue or the UI.'),
      ] }],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern([...nodeBuiltins, 'electron', 'better-sqlite3', 'sharp', 'onnxruntime-node', 'faiss-node'],
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
      ] }],
    },
  },
);
