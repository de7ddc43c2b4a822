/** Which of the API's routes a path belongs to, matched as the app's router matches it. */

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A lookup from a request path to its route pattern (OpenAPI style, `{name}` for one
 * segment), or undefined: with or without the trailing slash, percent-escapes decoded.
 */
export function routeMatcher(paths: readonly string[]): (pathname: string) => string | undefined {
  const patterns = paths.map((path) => {
    const pieces = path
      .replace(/\/$/, "")
      .split(/\{\w+\}/)
      .map(escapeRegExp);
    return { path, pattern: new RegExp(`^${pieces.join("[^/]+")}/?$`) };
  });
  return (pathname) => {
    let decoded = pathname;
    try {
      decoded = decodeURI(pathname);
    } catch {
      // A malformed escape: match it as it is.
    }
    return patterns.find(({ pattern }) => pattern.test(decoded) || pattern.test(pathname))?.path;
  };
}
