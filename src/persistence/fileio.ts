// The file operations of the txn log writer, behind an interface so that tests can inject disk
// faults: a write or an fdatasync that fails with EIO or ENOSPC after N calls. The real one is
// node:fs. `ZK_FAULT_INJECT` (for tests of whole processes) selects a faulty one at start-up:
//   ZK_FAULT_INJECT=fsync:EIO:after=20     the 21st fdatasync and every later one fail with EIO
//   ZK_FAULT_INJECT=write:ENOSPC:after=50  the 51st write and every later one fail with ENOSPC
// A log file made `durable` is opened with O_DSYNC: each write returns once its bytes are on disk,
// so its writes are also its fdatasyncs (an "fsync" fault hits them).
//
// Every operation runs off the event loop, in libuv's thread pool. A disk that stalls (a frozen
// filesystem, a cloud volume's hiccup, the kernel throttling a writer behind a slow device) stalls
// only the txn log then: the server goes on answering pings and reads, and a leader commits with
// its followers' ACKs, as ZooKeeper's SyncRequestProcessor thread lets it. Until 2026-12-07 the
// records were written with a synchronous write on the event loop, and a 20-second freeze of the
// leader's disk stopped the whole process: every client cut off, the leader deposed.
import * as fs from 'node:fs';

export interface LogFile {
  /** write at `position`; resolves with the bytes written (on disk already for a durable file) */
  write(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface FileIO {
  /** create (or truncate) a file for writing; `durable`: O_DSYNC, each write durable when it returns */
  create(path: string, durable: boolean): Promise<LogFile>;
}

const { O_WRONLY, O_CREAT, O_TRUNC, O_DSYNC } = fs.constants;

export const realFileIO: FileIO = {
  async create(p, durable) {
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(p, O_WRONLY | O_CREAT | O_TRUNC | (durable ? O_DSYNC : 0), 0o644, (e, fd) => (e ? reject(e) : resolve(fd))),
    );
    return {
      // fs.write with a callback, not a FileHandle: a promise-based fs request allocates a stats
      // array per call (bench/alloc.js), and this is the hot path, once per group commit. One
      // O_DSYNC write is one thread-pool round trip, where a write and an fdatasync were two
      // (measured here: 600-byte appends, p50 106-112 us against 137 us; the synchronous write
      // plus fdatasync it replaces took 113 us).
      write: (buf, offset, length, position) => new Promise<number>((resolve, reject) => fs.write(fd, buf, offset, length, position, (e, n) => (e ? reject(e) : resolve(n)))),
      close: () => new Promise<void>((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve()))),
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

/**
 * A FileIO whose writes or fdatasyncs fail once `after` of them succeeded (across all files). A
 * write to a durable file is both a write and an fdatasync: either fault hits it.
 */
export function faultyFileIO(spec: FaultSpec, base: FileIO = realFileIO): FileIO {
  let calls = 0;
  const hit = (op: FaultSpec['op']): boolean => op === spec.op && ++calls > spec.after;
  return {
    async create(p, durable) {
      const f = await base.create(p, durable);
      return {
        write: async (buf, offset, length, position) => {
          if (hit('write')) throw ioError(spec.code, 'write');
          if (durable && hit('fsync')) throw ioError(spec.code, 'fdatasync');
          return f.write(buf, offset, length, position);
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
