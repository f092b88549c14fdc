// The sockets between peers: plain TCP, or TLS with sslQuorum=true (QuorumX509Util, the
// ssl.quorum.* keys). With TLS both sides show certificates that must chain to the quorum trust
// store, and with ssl.quorum.hostnameVerification (the default) each side checks that the other's
// certificate names the address it connected from or to — the accepting side too, as 3.8's
// ZKTrustManager does for quorum connections.
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ServerConfig } from '../config/types';
import { quorumTlsSettings, serverContextOptions, streamStartingWith, TLS_HANDSHAKE, TlsContextOptions } from '../security/tls';
import type { Logger } from '../util/log';

interface QuorumTls {
  options: TlsContextOptions;
  context: tls.SecureContext;
  /** the listening TLS servers, to hand a reloaded context to */
  servers: Set<tls.Server>;
}

const contexts = new WeakMap<ServerConfig, QuorumTls>();

function tlsOf(config: ServerConfig, logger: Logger): QuorumTls {
  let c = contexts.get(config);
  if (!c) {
    const options = serverContextOptions(quorumTlsSettings(config));
    c = { options, context: tls.createSecureContext(options), servers: new Set() };
    contexts.set(config, c);
    if (config.sslQuorumReloadCertFiles) watchStores(config, c, logger);
  }
  return c;
}

/**
 * sslQuorumReloadCertFiles (X509Util.enableCertFileReloading): when the key or trust store file
 * changes on disk, build the context again; connections made from then on, both ways, use it.
 * A store that cannot be read (a copy half written) keeps the old context until the next change.
 */
function watchStores(config: ServerConfig, q: QuorumTls, logger: Logger): void {
  logger.info({}, 'enabling cert file reloading');
  const files = [config.sslQuorumKeyStoreLocation, config.sslQuorumTrustStoreLocation].filter((f): f is string => !!f).map((f) => path.resolve(f));
  let timer: NodeJS.Timeout | null = null;
  const reload = (): void => {
    timer = null;
    try {
      const options = serverContextOptions(quorumTlsSettings(config));
      q.context = tls.createSecureContext(options);
      q.options = options;
      for (const srv of q.servers) srv.setSecureContext({ ...options });
      logger.info({ files }, 'quorum TLS key and trust stores reloaded');
    } catch (e) {
      logger.warn({ files, err: (e as Error).message }, 'quorum TLS stores changed but cannot be used; keeping the previous ones');
    }
  };
  for (const dir of new Set(files.map((f) => path.dirname(f)))) {
    const w = fs.watch(dir, (_event, name) => {
      if (!name || !files.includes(path.join(dir, name.toString()))) return;
      // one reload for a burst of events (a copy writes in several steps)
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, 200);
      timer.unref();
    });
    w.unref();
    w.on('error', () => undefined);
  }
}

/** Whether a certificate names `ip` (an IP SAN), or one of the names `ip` resolves back to. */
async function certNames(ip: string, cert: tls.PeerCertificate): Promise<boolean> {
  const addr = ip.replace(/^::ffff:/, '');
  if (!tls.checkServerIdentity(addr, cert)) return true;
  const names = await dns.reverse(addr).catch(() => [] as string[]);
  return names.some((n) => !tls.checkServerIdentity(n, cert));
}

/**
 * A TLS server for quorum connections; `address` gives a socket's peer address (for a connection
 * unwrapped by port unification the TLS socket itself does not know it).
 */
function tlsServer(config: ServerConfig, logger: Logger, onSocket: (s: net.Socket) => void, address: (s: tls.TLSSocket) => string, track: boolean): tls.Server {
  const q = tlsOf(config, logger);
  const { options } = q;
  const srv = tls.createServer({ ...options, secureContext: q.context, handshakeTimeout: 10_000 }, (s) => {
    if (!config.sslQuorumHostnameVerification || options.requestCert === false) return onSocket(s);
    const cert = s.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return onSocket(s);
    const addr = address(s);
    certNames(addr, cert).then((ok) => {
      if (ok) return onSocket(s);
      logger.error({ remote: addr }, `Failed to verify hostname of quorum peer ${addr}: its certificate does not name it`);
      s.destroy();
    });
  });
  srv.on('tlsClientError', (e, s) => {
    logger.warn({ remote: address(s as tls.TLSSocket), err: e.message }, 'quorum TLS handshake failed');
    s.destroy();
  });
  if (track) {
    q.servers.add(srv);
    srv.on('close', () => q.servers.delete(srv));
  }
  return srv;
}

/**
 * A listening server for the election or quorum port; `onSocket` gets sockets ready for traffic.
 * sslQuorum: TLS only. portUnification (UnifiedServerSocket): TLS and plaintext both, told apart
 * by the first byte — what a rolling switch to (or from) sslQuorum needs while some peers still
 * connect in plaintext.
 */
export function quorumServer(config: ServerConfig, logger: Logger, onSocket: (s: net.Socket) => void): net.Server {
  if (config.portUnification && config.sslQuorumKeyStoreLocation) {
    return net.createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.once('data', (first: Buffer) => {
        if (first[0] !== TLS_HANDSHAKE) {
          sock.pause();
          sock.unshift(first);
          onSocket(sock);
          sock.resume();
          return;
        }
        const inner = streamStartingWith(sock, first);
        // a TLS server of its own per connection, so that the TLS socket is tied to this address
        tlsServer(config, logger, onSocket, () => sock.remoteAddress ?? '', false).emit('connection', inner);
      });
    });
  }
  if (!config.sslQuorum) return net.createServer((s) => onSocket(s));
  return tlsServer(config, logger, onSocket, (s) => s.remoteAddress ?? '', true);
}

/** Connect to a peer; `onReady` once the socket can carry traffic (after the TLS handshake with sslQuorum). */
export function quorumConnect(config: ServerConfig, logger: Logger, host: string, port: number, onReady: (s: net.Socket) => void, onError: (e: Error) => void): net.Socket {
  if (!config.sslQuorum) {
    const s = net.connect({ host, port });
    s.once('connect', () => onReady(s));
    s.once('error', onError);
    return s;
  }
  const { options, context } = tlsOf(config, logger);
  const s = tls.connect({
    host,
    port,
    secureContext: context,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    rejectUnauthorized: true,
    checkServerIdentity: config.sslQuorumHostnameVerification ? (h, cert) => tls.checkServerIdentity(h, cert) : () => undefined,
  });
  s.once('secureConnect', () => onReady(s));
  s.once('error', (e) => {
    logger.warn({ host, port, err: e.message }, 'quorum TLS connection failed');
    onError(e);
  });
  return s;
}
