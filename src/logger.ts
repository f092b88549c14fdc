// pino logger: one readable line per event (text) or JSON lines (json). The format is the
// `--log-format` option, else ZK_LOG_FORMAT, else text on a terminal and JSON elsewhere (a file
// or a pipe, for a log shipper). `zk-server cluster` passes its own choice to its peers through
// ZK_LOG_FORMAT, so their lines stay readable although their stdout is a pipe.
import pino from 'pino';
import { Writable } from 'node:stream';
import { RotatingFile } from './util/rotatingfile';

/** where lines go: stdout, or a size-rotated log file (background `start`) */
type Sink = { write(text: string): unknown };

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** ZooKeeper's log4j time format (ISO8601 with a comma before the milliseconds), in local time. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

/**
 * One JSON log record as a text line: time, server id, level, component, message, then the other
 * fields as key=value (what ZooKeeper's log4j pattern shows, without the thread and class).
 */
export function textLine(o: Record<string, unknown>): string {
  const { time, level, msg, myid, component, pid: _pid, hostname: _h, ...rest } = o;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const lvl = (LEVELS[Number(level)] ?? String(level)).padEnd(5);
  return `${timestamp(Number(time))} [myid:${myid ?? ''}] - ${lvl} [${component ?? 'main'}] - ${msg ?? ''}${extra ? ' ' + extra : ''}`;
}

function textStream(out: Sink): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          out.write(textLine(JSON.parse(line) as Record<string, unknown>) + '\n');
        } catch {
          out.write(line + '\n');
        }
      }
      cb();
    },
  });
}

/** The format asked for (the option, then ZK_LOG_FORMAT), or the default for this stdout. */
export function logFormatOf(option?: string, env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stdout.isTTY)): LogFormat {
  const asked = option ?? env.ZK_LOG_FORMAT;
  if (asked === undefined || asked === '') return tty ? 'text' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(asked)) {
    throw new Error(`unknown log format "${asked}" (expected ${LOG_FORMATS.join(' or ')})`);
  }
  return asked as LogFormat;
}

function lineStream(out: Sink): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.write(chunk.toString('utf8'));
      cb();
    },
  });
}

/**
 * stdout as a sink that outlives its reader: a foreground server whose stdout pipe loses its
 * reader (`start-foreground | head`, a log shipper that exits) got EPIPE as an unhandled 'error'
 * event and died at its next log line, and a stdout file on a full disk did the same with ENOSPC.
 * Lines written after that are dropped (as log4j's ConsoleAppender drops them); the server goes on.
 * One for the process, however many loggers write to it.
 */
let stdoutSink: Sink | null = null;
function stdout(): Sink {
  if (stdoutSink) return stdoutSink;
  let broken = false;
  process.stdout.on('error', () => {
    broken = true;
  });
  stdoutSink = { write: (text: string) => (broken ? false : process.stdout.write(text)) };
  return stdoutSink;
}

export function createLogger(opts: { myid?: number; level?: string; format?: LogFormat; file?: RotatingFile } = {}): pino.Logger {
  const format = opts.format ?? logFormatOf();
  const level = opts.level ?? process.env.ZK_LOG_LEVEL ?? 'info';
  // standalone: no myid, shown as `[myid:]` as ZooKeeper shows it
  const base = opts.myid !== undefined ? { myid: opts.myid } : {};
  const out = opts.file ?? stdout();
  return pino({ level, base }, format === 'text' ? textStream(out) : lineStream(out));
}
