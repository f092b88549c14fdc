// pino logger: JSON lines to a file or a pipe, readable lines on a terminal.
import pino from 'pino';
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function prettyStream(out: NodeJS.WriteStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          const { time, level, msg, myid, pid: _pid, hostname: _h, ...rest } = o;
          const extra = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          const ts = new Date(Number(time)).toISOString().replace('T', ' ').replace('Z', '');
          out.write(`${ts} [myid:${myid ?? ''}] - ${LEVELS[Number(level)] ?? level} ${msg ?? ''}${extra ? ' ' + extra : ''}\n`);
        } catch {
          out.write(line + '\n');
        }
      }
      cb();
    },
  });
}

export function createLogger(opts: { myid?: number; level?: string; pretty?: boolean } = {}): pino.Logger {
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const level = opts.level ?? process.env.ZK_LOG_LEVEL ?? 'info';
  const base = { myid: opts.myid ?? 0 };
  if (pretty) return pino({ level, base }, prettyStream(process.stdout));
  return pino({ level, base }, pino.destination({ fd: 1, sync: false }));
}
