// SASL between peers (QuorumAuth, SaslQuorumAuthServer, SaslQuorumAuthLearner): on a new election
// connection (after the initial message) and on a learner's connection to its leader (before
// FOLLOWERINFO), the connecting side — the "learner" — may run a DIGEST-MD5 exchange with the
// accepting side — the "server" — in QuorumAuthPacket records:
//
//   long magic (-0xa0dbcafecafe1234), int status (0 in progress, 1 success, -1 error), buffer token
//
// written back to back on the stream (no length prefix). The server peeks at the first 8 bytes: the
// magic means an exchange follows; anything else is the connection's normal traffic, allowed only
// when quorum.auth.serverRequireSasl is false. The learner authenticates only with
// quorum.auth.learnerRequireSasl=true. Users: the QuorumServer JAAS section's user_<name> options;
// the learner's name and password: the QuorumLearner section's username and password.
import type * as net from 'node:net';
import { DigestMd5Client, DigestMd5Server, SaslError } from './digestmd5';
import { JaasEntry, digestUsers, readJaasFile } from './jaas';
import type { Logger } from '../util/log';

// Java's literal -0xa0dbcafecafe1234L: the hex literal is a negative long already, so its negation is positive
export const QUORUM_AUTH_MAGIC = BigInt.asIntN(64, -0xa0dbcafecafe1234n);
const PROTOCOL = 'zookeeper-quorum';
const SERVER_NAME = 'zk-quorum-sasl-md5';
/** SaslQuorumAuthServer.MAX_RETRIES */
const MAX_RETRIES = 5;
const IN_PROGRESS = 0;
const SUCCESS = 1;
const ERROR = -1;

export interface QuorumSaslSettings {
  serverRequire: boolean;
  learnerRequire: boolean;
  /** QuorumServer section: user → password */
  users: Map<string, string>;
  /** QuorumLearner section */
  learnerUser?: string;
  learnerPassword?: string;
  /** ms a peer may take for the whole exchange */
  timeoutMs: number;
}

export class QuorumAuthError extends Error {}

/** Read the JAAS sections the quorum needs (errors name the file). */
export function quorumSaslSettings(o: {
  jaasConfigFile?: string;
  serverSection: string;
  learnerSection: string;
  serverRequire: boolean;
  learnerRequire: boolean;
  timeoutMs: number;
}): QuorumSaslSettings {
  if (!o.jaasConfigFile) throw new QuorumAuthError('quorum.auth.enableSasl=true needs a JAAS file: -Djava.security.auth.login.config=… in SERVER_JVMFLAGS');
  const sections = readJaasFile(o.jaasConfigFile);
  const need = (name: string): JaasEntry[] => {
    const s = sections.get(name);
    if (!s) throw new QuorumAuthError(`SASL-authentication failed because the specified JAAS configuration section '${name}' could not be found (${o.jaasConfigFile}).`);
    return s;
  };
  const server = need(o.serverSection);
  const learner = need(o.learnerSection);
  const opt = (k: string): string | undefined => learner.map((e) => e.options.get(k)).find((v) => v !== undefined);
  return {
    serverRequire: o.serverRequire,
    learnerRequire: o.learnerRequire,
    users: digestUsers(server),
    learnerUser: opt('username'),
    learnerPassword: opt('password'),
    timeoutMs: o.timeoutMs,
  };
}

export function encodeAuthPacket(status: number, token: Buffer | null): Buffer {
  const len = token ? token.length : 0;
  const b = Buffer.alloc(16 + len);
  b.writeBigInt64BE(QUORUM_AUTH_MAGIC, 0);
  b.writeInt32BE(status, 8);
  b.writeInt32BE(token ? token.length : -1, 12);
  if (token) token.copy(b, 16);
  return b;
}

/** A QuorumAuthPacket at the start of `b`, or null while incomplete. */
export function decodeAuthPacket(b: Buffer): { status: number; token: Buffer; used: number } | null {
  if (b.length < 16) return null;
  if (b.readBigInt64BE(0) !== QUORUM_AUTH_MAGIC) throw new QuorumAuthError('not a quorum auth packet');
  const status = b.readInt32BE(8);
  const len = b.readInt32BE(12);
  if (len > 64 * 1024) throw new QuorumAuthError(`quorum auth token of ${len} bytes`);
  const n = Math.max(0, len);
  if (b.length < 16 + n) return null;
  return { status, token: Buffer.from(b.subarray(16, 16 + n)), used: 16 + n };
}

/**
 * Reads from a socket until `take` says it has what it needs; the bytes after are handed back.
 * Listeners are removed when done, so that the next reader starts where this one stopped.
 */
class SocketReader {
  private buf: Buffer;
  private waiter: (() => void) | null = null;
  private ended = false;
  private readonly onData = (d: Buffer): void => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    this.waiter?.();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.waiter?.();
  };

  constructor(
    private readonly sock: net.Socket,
    initial: Buffer,
  ) {
    this.buf = initial;
    sock.on('data', this.onData);
    sock.on('end', this.onEnd);
    sock.on('close', this.onEnd);
  }

  /** Wait for `n` bytes (fewer when the stream ends first). */
  async atLeast(n: number): Promise<Buffer> {
    while (this.buf.length < n && !this.ended) await new Promise<void>((r) => (this.waiter = r));
    this.waiter = null;
    return this.buf;
  }

  async packet(): Promise<{ status: number; token: Buffer }> {
    for (;;) {
      const p = decodeAuthPacket(this.buf);
      if (p) {
        this.buf = this.buf.subarray(p.used);
        return p;
      }
      if (this.ended) throw new QuorumAuthError('connection closed during quorum authentication');
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }

  /** Stop reading; the bytes not consumed. */
  release(): Buffer {
    this.sock.removeListener('data', this.onData);
    this.sock.removeListener('end', this.onEnd);
    this.sock.removeListener('close', this.onEnd);
    return this.buf;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, sock: net.Socket): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => {
        sock.destroy();
        reject(new QuorumAuthError(`quorum authentication took more than ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/**
 * The accepting side. Resolves with the bytes read past the exchange (the connection's traffic
 * starts there); rejects when the connection must be closed.
 */
export async function quorumAuthServer(sock: net.Socket, s: QuorumSaslSettings, logger: Logger, initial: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const r = new SocketReader(sock, initial);
  const addr = `${sock.remoteAddress}:${sock.remotePort}`;
  const run = async (): Promise<void> => {
    const head = await r.atLeast(8);
    if (head.length < 8 || head.readBigInt64BE(0) !== QUORUM_AUTH_MAGIC) {
      if (s.serverRequire) throw new QuorumAuthError('Learner not trying to authenticate and authentication is required');
      return;
    }
    const server = new DigestMd5Server({ password: (u) => s.users.get(u), protocol: PROTOCOL, serverName: SERVER_NAME });
    let token = (await r.packet()).token;
    let tries = 0;
    let challenge: Buffer = Buffer.alloc(0);
    try {
      while (!server.complete) {
        challenge = server.evaluate(token);
        if (!server.complete) {
          if (++tries > MAX_RETRIES) {
            sock.write(encodeAuthPacket(ERROR, challenge));
            logger.warn({ addr, tries }, `Failed to authenticate using SASL, server addr: ${addr}, retries=${tries} exceeded.`);
            throw new QuorumAuthError('too many SASL rounds');
          }
          sock.write(encodeAuthPacket(IN_PROGRESS, challenge));
          token = (await r.packet()).token;
        }
      }
      sock.write(encodeAuthPacket(SUCCESS, challenge));
      logger.info({ addr, user: server.authenticationID }, `Successfully completed the authentication using SASL. learner addr: ${addr}`);
    } catch (e) {
      if (!sock.destroyed) sock.write(encodeAuthPacket(ERROR, Buffer.alloc(0)));
      throw e;
    }
  };
  try {
    await withTimeout(run(), s.timeoutMs, sock);
  } catch (e) {
    if (s.serverRequire) {
      logger.error({ addr, err: (e as Error).message }, 'Failed to authenticate using SASL');
      r.release();
      throw e;
    }
    logger.warn({ addr, err: (e as Error).message }, `Maintaining learner connection despite SASL authentication failure. server addr: ${addr}, quorum.auth.serverRequireSasl: false`);
  }
  return r.release();
}

/** The connecting side: authenticate (with learnerRequireSasl) before anything else is sent. */
export async function quorumAuthLearner(sock: net.Socket, s: QuorumSaslSettings, logger: Logger): Promise<void> {
  if (!s.learnerRequire) return;
  const addr = `${sock.remoteAddress}:${sock.remotePort}`;
  if (s.learnerUser === undefined || s.learnerPassword === undefined) throw new QuorumAuthError('the QuorumLearner JAAS section has no username and password');
  const client = new DigestMd5Client({ username: s.learnerUser, password: s.learnerPassword, protocol: PROTOCOL, serverName: SERVER_NAME });
  const r = new SocketReader(sock, Buffer.alloc(0));
  const run = async (): Promise<void> => {
    sock.write(encodeAuthPacket(IN_PROGRESS, Buffer.alloc(0)));
    let p = await r.packet();
    while (!client.complete) {
      if (p.status === SUCCESS) {
        client.evaluate(p.token);
      } else if (p.status === IN_PROGRESS) {
        sock.write(encodeAuthPacket(IN_PROGRESS, client.evaluate(p.token)));
        p = await r.packet();
      } else {
        throw new QuorumAuthError(`Authentication failed against server addr: ${addr}`);
      }
    }
    if (p.status !== SUCCESS) throw new QuorumAuthError(`Authentication failed against server addr: ${addr}, qpStatus: ${p.status}`);
    logger.info({ addr }, `Successfully completed the authentication using SASL. server addr: ${addr}, status: SUCCESS`);
  };
  try {
    await withTimeout(run(), s.timeoutMs, sock);
  } catch (e) {
    r.release();
    const err = e instanceof SaslError ? new QuorumAuthError(e.message) : e;
    throw err;
  }
  const rest = r.release();
  if (rest.length) sock.unshift(rest);
}
