// Quorum SASL for this peer's connections (quorum.auth.enableSasl): the hooks the election's
// connection manager and the leader/learner connections call (security/quorumauth.ts does the work).
import type * as net from 'node:net';
import { ServerConfig } from '../config/types';
import { quorumSaslOf } from '../config/load';
import { quorumAuthLearner, quorumAuthServer, QuorumSaslSettings } from '../security/quorumauth';
import type { Logger } from '../util/log';
import type { CnxAuth } from './cnx/manager';

const cache = new WeakMap<ServerConfig, QuorumSaslSettings>();

/** The SASL hooks of a peer, or undefined when quorum SASL is off. */
export function peerAuth(config: ServerConfig, logger: Logger): CnxAuth | undefined {
  if (!config.quorumSaslEnabled) return undefined;
  let s = cache.get(config);
  if (!s) {
    s = quorumSaslOf(config);
    cache.set(config, s);
  }
  const settings = s;
  return {
    learner: (sock: net.Socket) => quorumAuthLearner(sock, settings, logger),
    server: (sock: net.Socket, initial: Buffer) => quorumAuthServer(sock, settings, logger, initial),
  };
}
