// A log file that rolls over by size, as ZooKeeper's ROLLINGFILE appender does
// (zookeeper.log.maxfilesize, zookeeper.log.maxbackupindex): when the next line would take
// `file` past `maxBytes`, file.(n-1) becomes file.n (the oldest, file.<backups>, is dropped),
// file becomes file.1, and a new file is started. Writes are synchronous: a log line must be on
// disk (in the page cache) before a crash that it explains, and logging is rare enough at INFO.
import * as fs from 'node:fs';

export interface RotatingFileOptions {
  /** roll over before the file would grow past this many bytes (ZooKeeper's default: 256MB) */
  maxBytes: number;
  /** how many rolled-over files to keep (ZooKeeper's default: 20); 0 truncates in place */
  backups: number;
}

export class RotatingFile {
  /** -1 after a rollover that could not open the new file: the next write tries again */
  private fd = -1;
  private size = 0;
  /** lines lost since the log last took one (a full disk, no file descriptor left) */
  private dropped = 0;
  private lastError = '';

  constructor(
    readonly file: string,
    private readonly o: RotatingFileOptions,
  ) {
    this.reopen();
  }

  /**
   * Never throws: a log line that cannot be written (ENOSPC on a full disk, EMFILE at a rollover,
   * EIO) is dropped, as log4j's appenders drop it, and the server goes on; the line is called from
   * everywhere, and an exception there ended the process (a full log disk stopped the server). The
   * first failure and, once lines go through again, the count lost are told on stderr.
   */
  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    try {
      if (this.fd < 0) this.reopen();
      // a line longer than the limit on its own still goes into a file (a fresh one)
      if (this.size > 0 && this.size + buf.length > this.o.maxBytes) this.rollOver();
      fs.writeSync(this.fd, buf);
      this.size += buf.length;
    } catch (e) {
      if (this.dropped++ === 0) {
        this.lastError = (e as NodeJS.ErrnoException).code ?? String(e);
        stderr(`zk-server: cannot write the log file ${this.file} (${this.lastError}); log lines are dropped until it can be written again\n`);
      }
      return;
    }
    if (this.dropped > 0) {
      stderr(`zk-server: the log file ${this.file} is written again; ${this.dropped} log line(s) were dropped (${this.lastError})\n`);
      this.dropped = 0;
    }
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private reopen(): void {
    this.fd = fs.openSync(this.file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private rollOver(): void {
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
    if (this.o.backups > 0) {
      for (let i = this.o.backups - 1; i >= 1; i--) renameIfThere(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      renameIfThere(this.file, `${this.file}.1`);
      this.fd = fs.openSync(this.file, 'a');
    } else {
      this.fd = fs.openSync(this.file, 'w');
    }
    this.size = 0;
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
