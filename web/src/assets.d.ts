// Vite turns an imported asset into its URL under /assets.
declare module '*.svg' {
  const url: string;
  export default url;
}

// True only in the end-to-end build (`vite build --mode e2e`): exposes window.__conclaveTest.
declare const __CONCLAVE_TEST_HOOKS__: boolean;
