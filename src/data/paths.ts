// Path validation (ZooKeeper's PathUtils.validatePath). Violations are BADARGUMENTS.

/** Returns null when valid, else the reason. */
export function pathProblem(path: string | null | undefined, isSequential = false): string | null {
  if (path == null) return 'Path cannot be null';
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return isSequential ? null : null;
  if (path.charCodeAt(path.length - 1) === 0x2f && !isSequential) return 'Path must not end with / character';
  let lastc = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && lastc === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && lastc === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) {
        return `relative paths not allowed @${i}`;
      }
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) {
        return `relative paths not allowed @${i}`;
      }
    } else if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
    lastc = c;
  }
  return null;
}

export function isValidPath(path: string | null | undefined): boolean {
  return pathProblem(path) === null;
}
