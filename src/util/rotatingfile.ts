// A log file that rolls over by size, as ZooKeeper's ROLLINGFILE appender does
// (zookeeper.log.maxfilesize, zookeeper.log.maxbackupindex): when the next line would take
// `file` past `maxBytes`, file.(n-1) becomes file.n (the oldest, file.<backups>, is dropped),
// file becomes file.1, and a new file is started. The file is opened for appending, as log4j's
// FileOutputStream is: a `logrotate copytruncate` leaves no hole.
//
// Lines are written off the event loop (fs.write in libuv's thread pool), one batch at a time,
// queued while a write is on its way. The log file of `zk-server start` is in the dataDir unless
// ZOO_LOG_DIR says otherwise, and on a disk that stalls (a frozen filesystem, a cloud volume's
// hiccup) a synchronous write would have held the whole server at the first line logged during
// the stall, where the txn log already waits off the event loop (persistence/fileio.ts). At most
// MAX_QUEUED bytes wait; lines past that are dropped and counted, as lines a full disk has no room
// for are. What is still queued when the process exits (process.exit, an uncaught exception) is
// written synchronously then, so a crash's last lines reach the file; a kill -9 loses the lines of
// the last few milliseconds. A rollover (once per maxBytes) renames and opens files synchronously,
// in its turn after the lines before it are written.
import * as fs from 'node:fs';

export interface RotatingFileOptions {
  /** roll over before the file would grow past this many bytes (ZooKeeper's default: 256MB) */
  maxBytes: number;
  /** how many rolled-over files to keep (ZooKeeper's default: 20); 0 truncates in place */
  backups: number;
}

/** bytes of log lines that may wait for the disk; more are dropped */
export const MAX_QUEUED = 8 * 1024 * 1024;

/** lines to append (joined into one buffer when their turn comes), or the rollover before the next ones */
type Lines = { bufs: Buffer[]; bytes: number };
type Item = Lines | 'rollover';

export class RotatingFile {
  /** -1 after a rollover that could not open the new file: the next write tries again */
  private fd = -1;
  /** bytes in the current file, counting the queued lines bound for it */
  private size = 0;
  /** lines lost since the log last took one (a full disk, no file descriptor left, a full queue) */
  private dropped = 0;
  private lastError = '';
  private queue: Item[] = [];
  private queued = 0;
  /** a write on its way in the thread pool */
  private busy = false;
  private idle: (() => void)[] = [];
  private readonly exitHook = (): void => this.flushSync();

  constructor(
    readonly file: string,
    private readonly o: RotatingFileOptions,
  ) {
    this.reopen();
    process.on('exit', this.exitHook);
  }

  /**
   * Never throws, never waits for the disk: a log line that cannot be written (ENOSPC on a full
   * disk, EMFILE at a rollover, EIO, a queue full behind a stalled disk) is dropped, as log4j's
   * appenders drop it, and the server goes on; the line is called from everywhere, and an exception
   * there ended the process (a full log disk stopped the server). The first failure and, once
   * lines go through again, the count lost are told on stderr.
   */
  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    if (this.queued + buf.length > MAX_QUEUED) {
      this.lost('more than 8 MB of lines waiting for the disk', 1);
      return;
    }
    // a line longer than the limit on its own still goes into a file (a fresh one)
    if (this.size > 0 && this.size + buf.length > this.o.maxBytes) {
      this.queue.push('rollover');
      this.size = 0;
    }
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last !== 'rollover') {
      last.bufs.push(buf);
      last.bytes += buf.length;
    } else this.queue.push({ bufs: [buf], bytes: buf.length });
    this.size += buf.length;
    this.queued += buf.length;
    if (!this.busy) this.pump();
  }

  /** Resolves once every line written before the call has been written (or dropped). */
  drained(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Write what is queued, synchronously: at exit. A write already on its way is left to finish. */
  flushSync(): void {
    const items = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const it of items) {
      try {
        if (it === 'rollover') this.rollOver();
        else if (this.fd >= 0) fs.writeSync(this.fd, Buffer.concat(it.bufs, it.bytes));
      } catch {
        // the process is on its way out
      }
    }
  }

  close(): void {
    this.flushSync();
    process.removeListener('exit', this.exitHook);
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** The next queued item: a rollover here, lines to the thread pool. */
  private pump(): void {
    for (;;) {
      const it = this.queue.shift();
      if (it === undefined) {
        for (const r of this.idle.splice(0)) r();
        return;
      }
      if (it === 'rollover') {
        try {
          this.rollOver();
        } catch (e) {
          this.fd = -1;
          this.lost(e, 0);
        }
        continue;
      }
      if (this.fd < 0) {
        try {
          this.reopen();
        } catch (e) {
          this.queued -= it.bytes;
          this.lost(e, it.bufs.length);
          continue;
        }
      }
      this.busy = true;
      const buf = it.bufs.length === 1 ? it.bufs[0] : Buffer.concat(it.bufs, it.bytes);
      this.writeOut(this.fd, buf, it.bufs.length, 0);
      return;
    }
  }

  private writeOut(fd: number, buf: Buffer, lines: number, off: number): void {
    fs.write(fd, buf, off, buf.length - off, null, (e, n) => {
      if (!e && off + n < buf.length) return this.writeOut(fd, buf, lines, off + n);
      this.busy = false;
      this.queued -= buf.length;
      if (e) this.lost(e, lines);
      else this.through();
      this.pump();
    });
  }

  private lost(e: unknown, lines: number): void {
    if (this.dropped === 0 && lines > 0) {
      this.lastError = typeof e === 'string' ? e : ((e as NodeJS.ErrnoException).code ?? String(e));
      stderr(`zk-server: cannot write the log file ${this.file} (${this.lastError}); log lines are dropped until it can be written again\n`);
    }
    this.dropped += lines;
  }

  private through(): void {
    if (this.dropped > 0) {
      stderr(`zk-server: the log file ${this.file} is written again; ${this.dropped} log line(s) were dropped (${this.lastError})\n`);
      this.dropped = 0;
    }
  }

  private reopen(): void {
    this.fd = fs.openSync(this.file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private rollOver(): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd >= 0) fs.closeSync(fd);
    if (this.o.backups > 0) {
      for (let i = this.o.backups - 1; i >= 1; i--) renameIfThere(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      renameIfThere(this.file, `${this.file}.1`);
      this.fd = fs.openSync(this.file, 'a');
    } else {
      this.fd = fs.openSync(this.file, 'w');
    }
  }
}

/** To stderr, if it can be written (a detached server's stderr may be on the same full disk). */
function stderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    // nowhere left to tell it
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * A log4j/logback file size ("256MB", "10KB", "1GB", or bytes); null if it is not one. Units are
 * powers of 1024, as logback's FileSize reads them.
 */
export function parseFileSize(text: string): number | null {
  const m = /^\s*(\d+)\s*(|b|kb|mb|gb)\s*$/i.exec(text);
  if (!m) return null;
  const unit = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[m[2].toLowerCase()]!;
  return Number(m[1]) * unit;
}
