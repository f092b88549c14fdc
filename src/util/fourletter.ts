// Asking a server a four-letter word, and reading `srvr`'s answer: what `zk-server status`,
// `start` (is it serving yet?), `cluster status` and the dashboard's ensemble panel all need, from
// zk-server and Apache ZooKeeper peers alike. `srvr` is the one word 3.8 answers whatever
// 4lw.commands.whitelist says.
import * as net from 'node:net';

/** a four-letter answer is a few kB at most (`dump`/`cons` of big servers aside); past this it is not one */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * The answer to `word` from host:port, or an Error saying why there is none (refused, timed out).
 * The word is written without a half-close, as nc and zkServer.sh send it.
 */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let done = false;
    const s = net.connect({ host, port });
    const finish = (e: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(word));
    s.on('data', (d: string) => {
      out += d;
      if (out.length > MAX_ANSWER_BYTES) finish(new Error('answer too large'));
    });
    s.on('end', () => finish(null));
    s.on('close', () => finish(null));
    s.on('error', (e) => finish(e));
  });
}

/** The answer, or '' when there is none (for callers that only tell "answered" from "not"). */
export function askFourLetterWord(host: string, port: number, word: string, timeoutMs = 3000): Promise<string> {
  return fourLetterWord(host, port, word, timeoutMs).catch(() => '');
}

export interface SrvrFields {
  /** Mode: leader, follower, observer, standalone, read-only; 'not serving' without one */
  role: string;
  /** as printed, 0x… */
  zxid: string | null;
  connections: number | null;
  outstanding: number | null;
  latency: { min: number; avg: number; max: number } | null;
  nodeCount: number | null;
  /** the answer of a server that is not serving (no Mode: line) */
  notServing: string | null;
}

/** The fields of a srvr answer (FourLetterCommands' StatCommand without the client list). */
export function parseSrvr(text: string): SrvrFields {
  const field = (name: string): string | null => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const mode = field('Mode');
  if (!mode) {
    // a peer without a quorum answers "This ZooKeeper instance is not currently serving requests"
    const why = text.trim() || 'empty answer';
    return { role: 'not serving', zxid: null, connections: null, outstanding: null, latency: null, nodeCount: null, notServing: why.slice(0, 200) };
  }
  const lat = /^Latency min\/avg\/max: ([\d.]+)\/([\d.]+)\/([\d.]+)$/m.exec(text);
  const zxid = field('Zxid');
  const num = (s: string | null): number | null => (s === null || !/^\d+$/.test(s) ? null : Number(s));
  return {
    role: /READ-ONLY mode/.test(text) ? 'read-only' : mode,
    zxid: zxid && /^0x[0-9a-f]+$/i.test(zxid) ? zxid : null,
    connections: num(field('Connections')),
    outstanding: num(field('Outstanding')),
    latency: lat ? { min: Number(lat[1]), avg: Number(lat[2]), max: Number(lat[3]) } : null,
    nodeCount: num(field('Node count')),
    notServing: null,
  };
}
