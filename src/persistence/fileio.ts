// The file operations of the txn log writer, behind an interface so that tests can inject disk
// faults: a write or an fdatasync that fails with EIO or ENOSPC after N calls. The real one is
// node:fs. `ZK_FAULT_INJECT` (for tests of whole processes) selects a faulty one at start-up:
//   ZK_FAULT_INJECT=fsync:EIO:after=20     the 21st fdatasync and every later one fail with EIO
//   ZK_FAULT_INJECT=write:ENOSPC:after=50  the 51st write and every later one fail with ENOSPC
import * as fs from 'node:fs';

export interface LogFile {
  /** write synchronously at `position`; returns the bytes written */
  write(buf: Buffer, offset: number, length: number, position: number): number;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileIO {
  /** create (or truncate) a file for writing */
  create(path: string): Promise<LogFile>;
}

export const realFileIO: FileIO = {
  async create(p) {
    const fh = await fs.promises.open(p, 'w');
    return {
      write: (buf, offset, length, position) => fs.writeSync(fh.fd, buf, offset, length, position),
      // fs.fdatasync with a callback, not FileHandle.datasync(): a promise-based fs request
      // allocates a stats array per call, ~8% of the bytes a 1-in-flight write allocates
      // (bench/alloc.js); the group commit syncs once per batch, so this is on the hot path
      datasync: () => new Promise<void>((resolve, reject) => fs.fdatasync(fh.fd, (e) => (e ? reject(e) : resolve()))),
      close: () => fh.close(),
    };
  },
};

export interface FaultSpec {
  op: 'write' | 'fsync';
  code: 'EIO' | 'ENOSPC';
  /** calls of `op` that succeed before the first failure */
  after: number;
}

function ioError(code: string, syscall: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${code === 'EIO' ? 'i/o error' : 'no space left on device'}, ${syscall} (injected)`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  return e;
}

/** A FileIO whose writes or fdatasyncs fail once `after` of them succeeded (across all files). */
export function faultyFileIO(spec: FaultSpec, base: FileIO = realFileIO): FileIO {
  let calls = 0;
  const hit = (op: FaultSpec['op']): boolean => op === spec.op && ++calls > spec.after;
  return {
    async create(p) {
      const f = await base.create(p);
      return {
        write: (buf, offset, length, position) => {
          if (hit('write')) throw ioError(spec.code, 'write');
          return f.write(buf, offset, length, position);
        },
        datasync: async () => {
          if (hit('fsync')) throw ioError(spec.code, 'fdatasync');
          return f.datasync();
        },
        close: () => f.close(),
      };
    },
  };
}

/** Parses ZK_FAULT_INJECT (see the top of this file); null when unset. Throws on a malformed value. */
export function faultSpecFrom(text: string | undefined): FaultSpec | null {
  if (!text) return null;
  const m = /^(write|fsync):(EIO|ENOSPC):after=(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`ZK_FAULT_INJECT=${text}: expected (write|fsync):(EIO|ENOSPC):after=N`);
  return { op: m[1] as FaultSpec['op'], code: m[2] as FaultSpec['code'], after: Number(m[3]) };
}

const envFault = faultSpecFrom(process.env.ZK_FAULT_INJECT);

/** The FileIO the txn log uses by default: the real one, or the fault of ZK_FAULT_INJECT. */
export const defaultFileIO: FileIO = envFault ? faultyFileIO(envFault) : realFileIO;
export const injectedFault: FaultSpec | null = envFault;
