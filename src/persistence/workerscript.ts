// Where a worker thread's compiled script is (adlerthread.ts, snapcheck.ts, purgethread.ts).
import * as fs from 'fs';
import * as path from 'path';

/**
 * `file` (e.g. 'adler-worker.js') beside this module when it runs compiled; the tests run the
 * TypeScript sources, which a worker thread cannot load: they take the compiled file from dist/
 * (scripts/test.sh builds before it runs them).
 */
export function workerScript(file: string): string {
  const here = path.join(__dirname, file);
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', 'dist', 'persistence', file);
}
