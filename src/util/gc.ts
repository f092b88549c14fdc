// A full garbage collection on demand, for the moments a large amount of memory just became
// garbage (the snapshot file buffer and the parse's temporaries after a restart): without it the
// process keeps that memory resident until V8's idle-time memory reducer runs, tens of seconds later.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
