/** Vite's `?raw` imports: a project file's text, for tests that check what is committed. */
declare module "*?raw" {
  const text: string;
  export default text;
}
