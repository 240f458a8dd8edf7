// Vite turns an imported asset into its URL under /assets.
declare module '*.svg' {
  const url: string;
  export default url;
}
