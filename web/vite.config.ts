import { defineConfig } from 'vitest/config';
import { clientIntegrity } from './scripts/client-integrity';

// Preact through esbuild's automatic JSX runtime; no framework plugin needed.
// For development against a local server: CONCLAVE_DEV_TARGET=https://localhost:8443 npm run dev
// `vite build --mode e2e` builds into dist-e2e/ with the test hook (src/testing/, window.__conclaveTest)
// the browser tests read media statistics through; the normal build (dist/) has none of it, which
// `npm run check-bundle` (scripts/check-bundle.mjs) checks.
const devTarget = process.env['CONCLAVE_DEV_TARGET'];

// scripts/client-integrity.ts adds Subresource Integrity to index.html and writes
// client-manifest.json (every file's SHA-256 and the client hash `conclave verify-client` checks).
// The build is reproducible (`npm run check-reproducible`): no timestamps, no absolute paths.
export default defineConfig(({ mode }) => ({
  plugins: [clientIntegrity()],
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  define: {
    __CONCLAVE_TEST_HOOKS__: JSON.stringify(mode === 'e2e' || mode === 'test'),
  },
  // The end-to-end encryption worker (src/media/e2ee_worker.ts) is an ES module worker, a file
  // under /assets like everything else (the CSP allows worker-src 'self').
  worker: {
    format: 'es',
  },
  build: {
    outDir: mode === 'e2e' ? 'dist-e2e' : 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset stays a file under /assets (served with CSP 'self'); nothing is inlined.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: devTarget
    ? {
        proxy: {
          '/api': { target: devTarget, secure: false, changeOrigin: true },
          '/healthz': { target: devTarget, secure: false, changeOrigin: true },
          '/ws': { target: devTarget, secure: false, ws: true, changeOrigin: true },
        },
      }
    : {},
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
  },
}));
