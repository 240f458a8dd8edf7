// Vite turns an imported asset into its URL under /assets.
declare module '*.svg' {
  const url: string;
  export default url;
}

// True only in the end-to-end build (`vite build --mode e2e`): Room.tsx wires in src/testing/.
declare const __CONCLAVE_TEST_HOOKS__: boolean;
