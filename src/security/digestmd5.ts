// SASL DIGEST-MD5 (RFC 2831), the mechanism ZooKeeper's clients and peers use with
// DigestLoginModule, as a pure state machine: tokens in, tokens out. Quality of protection "auth"
// only (authentication, no integrity or privacy layer), which is all that ZooKeeper's servers offer
// (they create their SaslServer with no properties, so the JDK's default qop=auth applies).
//
// Server: evaluate('') → challenge; evaluate(digest-response) → rspauth, complete.
// Client: evaluate(challenge) → digest-response; evaluate(rspauth) → '', complete.
import { createHash, randomBytes } from 'node:crypto';

export class SaslError extends Error {}

/** ZooKeeper's protocol and server name for DIGEST-MD5 (ZooKeeperSaslServer, ZooKeeperSaslClient). */
export const ZK_SASL_PROTOCOL = 'zookeeper';
export const ZK_SASL_SERVER_NAME = 'zk-sasl-md5';

const md5 = (b: Buffer | string): Buffer => createHash('md5').update(b).digest();
const hex = (b: Buffer): string => b.toString('hex');

/**
 * RFC 2831 2.1.2.1: with charset=utf-8, strings that fit ISO 8859-1 are hashed in it (as the JDK
 * does); others in UTF-8.
 */
function encode(s: string, utf8: boolean): Buffer {
  if (utf8 && /[^\u0000-\u00ff]/.test(s)) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

/** Parse `key=value,key="quoted \"value\"",…` (RFC 2831's digest-challenge and digest-response). */
export function parseDirectives(token: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = token.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(token[i])) i++;
    if (i >= n) break;
    let k = '';
    while (i < n && token[i] !== '=' && token[i] !== ',') k += token[i++];
    k = k.trim().toLowerCase();
    if (token[i] !== '=') throw new SaslError(`DIGEST-MD5: directive without a value: ${k}`);
    i++;
    while (i < n && /\s/.test(token[i])) i++;
    let v = '';
    if (token[i] === '"') {
      i++;
      while (i < n && token[i] !== '"') {
        if (token[i] === '\\' && i + 1 < n) i++;
        v += token[i++];
      }
      if (i >= n) throw new SaslError(`DIGEST-MD5: unterminated quoted value for ${k}`);
      i++;
    } else {
      while (i < n && token[i] !== ',') v += token[i++];
      v = v.trim();
    }
    if (!k) throw new SaslError('DIGEST-MD5: empty directive name');
    if (out.has(k) && k !== 'realm') throw new SaslError(`DIGEST-MD5: directive ${k} given twice`);
    if (!out.has(k)) out.set(k, v);
  }
  return out;
}

const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;

export interface DigestParams {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  digestUri: string;
  authzid?: string;
  utf8: boolean;
}

/** The response-value of RFC 2831 2.1.2.1; `a2Prefix` is 'AUTHENTICATE' for the client's response, '' for rspauth. */
export function responseValue(p: DigestParams, a2Prefix: string): string {
  const inner = md5(Buffer.concat([encode(p.username, p.utf8), Buffer.from(':'), encode(p.realm, p.utf8), Buffer.from(':'), encode(p.password, p.utf8)]));
  const a1Parts = [inner, Buffer.from(`:${p.nonce}:${p.cnonce}`)];
  if (p.authzid) a1Parts.push(Buffer.from(':'), Buffer.from(p.authzid, 'utf8'));
  const ha1 = hex(md5(Buffer.concat(a1Parts)));
  const ha2 = hex(md5(`${a2Prefix}:${p.digestUri}`));
  return hex(md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`));
}

export interface DigestServerOptions {
  /** the password of a user, undefined when there is no such user */
  password(user: string): string | undefined;
  protocol?: string;
  serverName?: string;
  /** for tests: a fixed nonce */
  nonce?: string;
  log?: (msg: string) => void;
}

/** The server side (the JDK's DigestMD5Server as ZooKeeper configures it). */
export class DigestMd5Server {
  private step = 1;
  private readonly nonce: string;
  private readonly realm: string;
  private authorizationId: string | undefined;
  private authenticationId: string | undefined;

  constructor(private readonly opts: DigestServerOptions) {
    this.nonce = opts.nonce ?? randomBytes(24).toString('base64');
    this.realm = opts.serverName ?? ZK_SASL_SERVER_NAME;
  }

  get complete(): boolean {
    return this.step === 3;
  }

  /** The user name the client authenticated as (its authorization id when it asked for one). */
  get authorizationID(): string | undefined {
    return this.authorizationId;
  }

  get authenticationID(): string | undefined {
    return this.authenticationId;
  }

  evaluate(response: Buffer): Buffer {
    if (this.step === 1) {
      if (response.length !== 0) throw new SaslError('DIGEST-MD5 must not have an initial response');
      this.step = 2;
      return Buffer.from(`realm=${quote(this.realm)},nonce=${quote(this.nonce)},qop="auth",charset=utf-8,algorithm=md5-sess`, 'utf8');
    }
    if (this.step !== 2) throw new SaslError('DIGEST-MD5: authentication already complete');
    if (response.length > 4096) throw new SaslError(`DIGEST-MD5: Invalid digest response length. Got:  ${response.length} Expected < 4096`);
    const d = parseDirectives(response.toString('utf8'));
    const utf8 = d.get('charset')?.toLowerCase() === 'utf-8';
    const need = (k: string): string => {
      const v = d.get(k);
      if (v === undefined) throw new SaslError(`DIGEST-MD5: digest response format violation. Missing ${k}.`);
      return v;
    };
    const username = need('username');
    const nonce = need('nonce');
    if (nonce !== this.nonce) throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched nonce.');
    const cnonce = need('cnonce');
    const nc = d.get('nc') ?? '00000001';
    if (!/^[0-9a-fA-F]{8}$/.test(nc) || parseInt(nc, 16) !== 1) throw new SaslError(`DIGEST-MD5: digest response format violation. Nonce count does not match: ${nc}`);
    const qop = d.get('qop') ?? 'auth';
    if (qop !== 'auth') throw new SaslError(`DIGEST-MD5: digest response format violation. Client selected unrequested qop: ${qop}`);
    const realm = d.get('realm') ?? '';
    if (realm && realm !== this.realm) throw new SaslError(`DIGEST-MD5: digest response format violation. Nonexistent realm: ${realm}`);
    const digestUri = need('digest-uri');
    const protocol = this.opts.protocol ?? ZK_SASL_PROTOCOL;
    const slash = digestUri.indexOf('/');
    if (slash < 0 || digestUri.substring(0, slash).toLowerCase() !== protocol.toLowerCase()) {
      throw new SaslError(`DIGEST-MD5: digest response format violation. Mismatched URI: ${digestUri}; expecting: ${protocol}/${this.realm}`);
    }
    const host = digestUri.substring(slash + 1).split('/')[0];
    if (host.toLowerCase() !== this.realm.toLowerCase()) {
      throw new SaslError(`DIGEST-MD5: digest response format violation. Mismatched URI: ${digestUri}; expecting: ${protocol}/${this.realm}`);
    }
    const clientResponse = need('response');
    const authzid = d.get('authzid') || undefined;
    const password = this.opts.password(username);
    if (password === undefined) throw new SaslError(`DIGEST-MD5: cannot acquire password for ${username} in realm : ${realm || this.realm}`);
    const p: DigestParams = { username, realm, password, nonce, cnonce, nc, qop, digestUri, authzid, utf8 };
    if (responseValue(p, 'AUTHENTICATE') !== clientResponse.toLowerCase()) {
      throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched response.');
    }
    this.authenticationId = username;
    this.authorizationId = authzid ?? username;
    this.step = 3;
    return Buffer.from(`rspauth=${responseValue(p, '')}`, 'utf8');
  }
}

export interface DigestClientOptions {
  username: string;
  password: string;
  authzid?: string;
  protocol?: string;
  serverName?: string;
  /** for tests: a fixed cnonce */
  cnonce?: string;
}

/** The client side, for quorum SASL (a learner authenticating to its leader) and for tests. */
export class DigestMd5Client {
  private step = 1;
  private expectedRspauth = '';

  constructor(private readonly opts: DigestClientOptions) {}

  get complete(): boolean {
    return this.step === 3;
  }

  evaluate(challenge: Buffer): Buffer {
    if (this.step === 1) {
      const d = parseDirectives(challenge.toString('utf8'));
      const nonce = d.get('nonce');
      if (!nonce) throw new SaslError('DIGEST-MD5: digest challenge format violation. Missing nonce.');
      const qops = (d.get('qop') ?? 'auth').split(',').map((s) => s.trim());
      if (!qops.includes('auth')) throw new SaslError('DIGEST-MD5: the server offers no qop=auth');
      const utf8 = d.get('charset')?.toLowerCase() === 'utf-8';
      const realm = d.get('realm') ?? '';
      const serverName = this.opts.serverName ?? ZK_SASL_SERVER_NAME;
      const digestUri = `${this.opts.protocol ?? ZK_SASL_PROTOCOL}/${serverName}`;
      const cnonce = this.opts.cnonce ?? randomBytes(24).toString('base64');
      const p: DigestParams = { username: this.opts.username, realm, password: this.opts.password, nonce, cnonce, nc: '00000001', qop: 'auth', digestUri, authzid: this.opts.authzid, utf8 };
      this.expectedRspauth = responseValue(p, '');
      const parts = [
        ...(utf8 ? ['charset=utf-8'] : []),
        `username=${quote(p.username)}`,
        `realm=${quote(realm)}`,
        `nonce=${quote(nonce)}`,
        'nc=00000001',
        `cnonce=${quote(cnonce)}`,
        `digest-uri=${quote(digestUri)}`,
        'maxbuf=65536',
        `response=${responseValue(p, 'AUTHENTICATE')}`,
        'qop=auth',
        ...(p.authzid ? [`authzid=${quote(p.authzid)}`] : []),
      ];
      this.step = 2;
      return Buffer.from(parts.join(','), 'utf8');
    }
    if (this.step === 2) {
      const d = parseDirectives(challenge.toString('utf8'));
      if (d.get('rspauth') !== this.expectedRspauth) throw new SaslError('DIGEST-MD5: the server\'s rspauth does not match: it does not know the password');
      this.step = 3;
      return Buffer.alloc(0);
    }
    throw new SaslError('DIGEST-MD5: authentication already complete');
  }
}
