// The answers ZooKeeperServer gives outside the request pipeline, at once: the auth packet
// (addauth), the sasl request (ZooKeeperServer.processSasl: one step of the connection's DIGEST-MD5
// exchange) and the enforce.auth check in front of every other request (AuthenticationHelper).
import { JuteReader } from '../jute/archive';
import { writeReplyHeader } from '../jute/records';
import { Err, Xid } from '../data/constants';
import { SaslError } from '../security/digestmd5';
import { saslAuthorizedId } from '../security/sasl';
import type { Logger } from '../util/log';
import type { Cnxn, ServerStats } from './cnxn';
import { addAuth, addId, type AuthPolicy } from './auth';
import type { SaslServerSetup } from '../security/sasl';

/** The settings these answers read (ServerSettings has them). */
export interface AuthSettings {
  superDigest?: string;
  auth?: AuthPolicy;
  sasl?: SaslServerSetup;
  enforceAuthSchemes?: readonly string[];
  allowSaslFailedClients?: boolean;
}

/** What these answers need from their server. */
export interface AuthContext {
  readonly settings: AuthSettings;
  readonly logger: Logger;
  readonly stats: ServerStats;
  closeCnxn(c: Cnxn): void;
}

export function answerAuth(zk: AuthContext, c: Cnxn, _xid: number, body: JuteReader): void {
  const err = addAuth(c, body, zk.settings.superDigest, zk.settings.auth);
  // the auth reply is sent at once (ZooKeeper answers it outside the request pipeline)
  const w = c.writer();
  const at = w.beginFrame();
  writeReplyHeader(w, Xid.AUTH, 0, err);
  c.endPacket(w, at);
  if (err !== Err.OK) {
    zk.stats.authFailed++;
    zk.logger.warn({ remote: c.io.remoteAddress }, 'authentication failed, closing connection');
    zk.closeCnxn(c);
  }
}

/**
 * The sasl request (ZooKeeperServer.processSasl): one step of the connection's DIGEST-MD5
 * exchange, answered at once; when it completes the connection gets `sasl:<name>` (and `super`
 * for a zookeeper.superUser). A failed login is answered with AUTHFAILED (or
 * SESSIONCLOSEDREQUIRESASLAUTH when SASL is enforced) and the connection closed, unless
 * allowSaslFailedClients keeps it.
 */
export function answerSasl(zk: AuthContext, c: Cnxn, xid: number, body: JuteReader): void {
  const reply = (err: number, token: Buffer | null): void => {
    const w = c.writer();
    const at = w.beginFrame();
    writeReplyHeader(w, xid, 0, err);
    w.writeBuffer(token);
    c.endPacket(w, at);
  };
  const remote = `${c.io.remoteAddress}:${c.io.remotePort}`;
  const setup = zk.settings.sasl;
  let token: Buffer;
  try {
    token = body.readBuffer() ?? Buffer.alloc(0);
  } catch {
    zk.logger.warn({ remote }, 'malformed sasl request, closing connection');
    zk.closeCnxn(c);
    return;
  }
  if (!setup?.enabled) {
    // ZooKeeper without a JAAS Server section has no SaslServer and answers with no token
    zk.logger.error({ remote }, 'sasl request, but SASL is not configured on this server (no JAAS Server section): answering with an empty token');
    reply(Err.OK, null);
    return;
  }
  const saslRequired = zk.settings.enforceAuthSchemes?.includes('sasl') ?? false;
  try {
    c.saslServer ??= setup.newServer()!;
    const out = c.saslServer.evaluate(token);
    if (c.saslServer.complete) {
      const authn = c.saslServer.authenticationID!;
      const authz = c.saslServer.authorizationID!;
      zk.logger.info({ remote }, `Successfully authenticated client: authenticationID=${authn};  authorizationID=${authz}.`);
      const id = saslAuthorizedId(authn, authz, setup.settings);
      if (id === undefined) throw new SaslError(`Malformed Kerberos name: ${authn}`);
      zk.logger.info({ remote }, `Setting authorizedID: ${id}`);
      const sid = '0x' + BigInt.asUintN(64, c.sessionId).toString(16);
      zk.logger.info({ sessionId: sid }, `Session ${sid}: adding SASL authorization for authorizationID: ${id}`);
      addId(c, { scheme: 'sasl', id });
      if (setup.isSuperUser(id)) {
        addId(c, { scheme: 'super', id: '' });
        zk.logger.info({ sessionId: sid }, `Session ${sid}: Authenticated Id '${id}' as super user`);
      }
    }
    reply(Err.OK, out);
  } catch (e) {
    if (!(e instanceof SaslError)) throw e;
    zk.logger.warn({ remote }, `Client ${remote} failed to SASL authenticate: ${e.message}`);
    if (zk.settings.allowSaslFailedClients && !saslRequired) {
      zk.logger.warn({ remote }, 'Maintaining client connection despite SASL authentication failure.');
      reply(Err.OK, null);
      return;
    }
    if (saslRequired) {
      zk.logger.warn({ remote }, 'Closing client connection due to server requires client SASL authentication, but client SASL authentication has failed, or client is not configured with SASL authentication.');
    } else {
      zk.logger.warn({ remote }, 'Closing client connection due to SASL authentication failure.');
    }
    reply(saslRequired ? Err.SESSIONCLOSEDREQUIRESASLAUTH : Err.AUTHFAILED, null);
    zk.closeCnxn(c);
  }
}

/**
 * enforce.auth.enabled (AuthenticationHelper.enforceAuthentication): a request on a connection
 * with no id of an enforced scheme is answered SESSIONCLOSEDREQUIRESASLAUTH and the connection
 * closed. False when it was refused.
 */
export function enforceAuthentication(zk: AuthContext, c: Cnxn, xid: number): boolean {
  const schemes = zk.settings.enforceAuthSchemes;
  if (!schemes || schemes.length === 0) return true;
  if (c.authIds.some((id) => schemes.includes(id.scheme))) return true;
  zk.logger.error(
    { remote: c.io.remoteAddress },
    `Client authentication scheme(s) [${c.authIds.map((i) => i.scheme).join(', ')}] does not match with any of the expected authentication scheme [${schemes.join(', ')}], closing session.`,
  );
  const w = c.writer();
  const at = w.beginFrame();
  writeReplyHeader(w, xid, 0, Err.SESSIONCLOSEDREQUIRESASLAUTH);
  c.endPacket(w, at);
  zk.closeCnxn(c);
  return false;
}
