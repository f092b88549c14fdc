// The sockets between peers: plain TCP, or TLS with sslQuorum=true (QuorumX509Util, the
// ssl.quorum.* keys). With TLS both sides show certificates that must chain to the quorum trust
// store, and with ssl.quorum.hostnameVerification (the default) each side checks that the other's
// certificate names the address it connected from or to — the accepting side too, as 3.8's
// ZKTrustManager does for quorum connections.
import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ServerConfig } from '../config/types';
import { quorumTlsSettings, serverContextOptions, TlsContextOptions } from '../security/tls';
import type { Logger } from '../util/log';

const contexts = new WeakMap<ServerConfig, { options: TlsContextOptions; context: tls.SecureContext }>();

function tlsOf(config: ServerConfig): { options: TlsContextOptions; context: tls.SecureContext } {
  let c = contexts.get(config);
  if (!c) {
    const options = serverContextOptions(quorumTlsSettings(config));
    c = { options, context: tls.createSecureContext(options) };
    contexts.set(config, c);
  }
  return c;
}

/** Whether a certificate names `ip` (an IP SAN), or one of the names `ip` resolves back to. */
async function certNames(ip: string, cert: tls.PeerCertificate): Promise<boolean> {
  const addr = ip.replace(/^::ffff:/, '');
  if (!tls.checkServerIdentity(addr, cert)) return true;
  const names = await dns.reverse(addr).catch(() => [] as string[]);
  return names.some((n) => !tls.checkServerIdentity(n, cert));
}

/** A listening server for the election or quorum port; `onSocket` gets sockets ready for traffic. */
export function quorumServer(config: ServerConfig, logger: Logger, onSocket: (s: net.Socket) => void): net.Server {
  if (!config.sslQuorum) return net.createServer((s) => onSocket(s));
  const { options, context } = tlsOf(config);
  const srv = tls.createServer({ ...options, secureContext: context, handshakeTimeout: 10_000 }, (s) => {
    if (!config.sslQuorumHostnameVerification || options.requestCert === false) return onSocket(s);
    const cert = s.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return onSocket(s);
    certNames(s.remoteAddress ?? '', cert).then((ok) => {
      if (ok) return onSocket(s);
      logger.error({ remote: s.remoteAddress }, `Failed to verify hostname of quorum peer ${s.remoteAddress}: its certificate does not name it`);
      s.destroy();
    });
  });
  srv.on('tlsClientError', (e, s) => {
    logger.warn({ remote: s.remoteAddress, err: e.message }, 'quorum TLS handshake failed');
    s.destroy();
  });
  return srv;
}

/** Connect to a peer; `onReady` once the socket can carry traffic (after the TLS handshake with sslQuorum). */
export function quorumConnect(config: ServerConfig, logger: Logger, host: string, port: number, onReady: (s: net.Socket) => void, onError: (e: Error) => void): net.Socket {
  if (!config.sslQuorum) {
    const s = net.connect({ host, port });
    s.once('connect', () => onReady(s));
    s.once('error', onError);
    return s;
  }
  const { options, context } = tlsOf(config);
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
