import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

// Electron's main process as one CommonJS file: Electron before 28 cannot load an ES module entry, and the
// bundle holds only the glue (src/main/electron), the host client and src/shared; no native addon.
export default defineConfig({
  build: {
    outDir: 'dist/electron',
    emptyOutDir: true,
    minify: false,
    target: 'node18',
    sourcemap: true,
    // quit.cjs is its own entry so the quit-sequence test can run it in a minimal Electron app.
    lib: { entry: { main: 'src/main/electron/main.ts', quit: 'src/main/electron/quit.ts' }, formats: ['cjs'], fileName: (_format, name) => `${name}.cjs` },
    rollupOptions: { external: ['electron', ...builtinModules, ...builtinModules.map((name) => `node:${name}`)] },
  },
});
