// TLS settings as ZooKeeper's X509Util reads them (ssl.* for the client port, ssl.quorum.* between
// peers): key and trust stores in PKCS12 or PEM (JKS gets an error naming the conversion command),
// the protocol, the enabled protocols and cipher suites, client authentication (none, want, need).
// From them: the options of a Node TLS server (or client) context.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type * as Forge from 'node-forge';
import type { ServerConfig } from '../config/types';

export type ClientAuth = 'none' | 'want' | 'need';

export interface TlsSettings {
  /** the key prefix these came from, for messages: 'ssl.' or 'ssl.quorum.' */
  prefix: string;
  keyStoreLocation?: string;
  keyStorePassword?: string;
  keyStorePasswordPath?: string;
  keyStoreType?: string;
  trustStoreLocation?: string;
  trustStorePassword?: string;
  trustStorePasswordPath?: string;
  trustStoreType?: string;
  /** ssl.protocol (3.8.0's default TLSv1.2) */
  protocol: string;
  enabledProtocols?: string[];
  cipherSuites?: string[];
  clientAuth: ClientAuth;
}

export class TlsConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(detail);
  }
}

type StoreType = 'PKCS12' | 'PEM' | 'JKS' | 'BCFKS';

/** KeyStoreFileType.fromPropertyValueOrFileName: the type key, else the file's extension. */
function storeType(key: string, location: string, type: string | undefined): StoreType {
  if (type) {
    const t = type.toUpperCase();
    if (t === 'PKCS12' || t === 'PEM' || t === 'JKS' || t === 'BCFKS') return t;
    throw new TlsConfigError(key.replace('location', 'type'), `unknown key store type "${type}": expected PKCS12, PEM or JKS`);
  }
  const ext = path.extname(location).toLowerCase();
  if (ext === '.p12' || ext === '.pfx') return 'PKCS12';
  if (ext === '.pem' || ext === '.crt' || ext === '.cer') return 'PEM';
  if (ext === '.jks') return 'JKS';
  if (ext === '.bcfks') return 'BCFKS';
  throw new TlsConfigError(key.replace('location', 'type'), `cannot tell the type of ${location} from its name: set ${key.replace('location', 'type')} to PKCS12 or PEM`);
}

function password(s: TlsSettings, which: 'keyStore' | 'trustStore'): string {
  const file = which === 'keyStore' ? s.keyStorePasswordPath : s.trustStorePasswordPath;
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new TlsConfigError(`${s.prefix}${which}.passwordPath`, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  return (which === 'keyStore' ? s.keyStorePassword : s.trustStorePassword) ?? '';
}

function read(key: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new TlsConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function unsupportedType(key: string, file: string, t: StoreType): TlsConfigError {
  if (t === 'JKS') {
    return new TlsConfigError(
      key,
      `${file} is a JKS key store, which zk-server does not read; convert it to PKCS12 (the JDK's default since Java 9): keytool -importkeystore -srckeystore ${file} -srcstoretype JKS -destkeystore ${file.replace(/\.jks$/i, '')}.p12 -deststoretype PKCS12`,
    );
  }
  return new TlsConfigError(key, `${file}: ${t} key stores are not supported; use PKCS12 or PEM`);
}

/** The certificates of a PKCS12 trust store (trusted-certificate entries, no key). */
function pkcs12Certificates(der: Buffer, pw: string): string[] {
  // required here, on first use: loading node-forge took ~18 ms of every start (80 ms of modules)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const forge = require('node-forge') as typeof Forge;
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), false, pw);
  const bags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const out: string[] = [];
  for (const bag of bags) {
    // forge parses RSA certificates; others (EC) are kept as ASN.1
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as unknown as { asn1?: Forge.asn1.Asn1 }).asn1;
    if (!asn1) continue;
    const b64 = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
    out.push(`-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
  }
  return out;
}

/** Java (IANA) cipher suite names → OpenSSL's, for the suites Java 11-17 enable by default and their kin. */
const CIPHERS: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA256: 'AES256-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** X509Util's default suites on Java 9+: the GCM ones, then the CBC ones. */
const DEFAULT_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
];

const PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type Proto = (typeof PROTOCOLS)[number];

export interface TlsContextOptions extends tls.SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * A server context's options (X509Util.createSSLContextAndOptions for a server): the key store's
 * key and chain, the trust store's certificates as the CAs that client certificates must chain
 * to, the protocol window and the suites, and whether a client certificate is asked for (want) or
 * required (need).
 */
export function serverContextOptions(s: TlsSettings): TlsContextOptions {
  const o: TlsContextOptions = { requestCert: s.clientAuth !== 'none', rejectUnauthorized: s.clientAuth === 'need' };
  const ksKey = `${s.prefix}keyStore.location`;
  if (!s.keyStoreLocation) throw new TlsConfigError(ksKey, `a TLS port needs a key store: set ${s.prefix}keyStore.location (and ${s.prefix}keyStore.password)`);
  const kt = storeType(ksKey, s.keyStoreLocation, s.keyStoreType);
  const ks = read(ksKey, s.keyStoreLocation);
  const kpw = password(s, 'keyStore');
  if (kt === 'PKCS12') {
    o.pfx = ks;
    o.passphrase = kpw;
  } else if (kt === 'PEM') {
    // one file with the private key (encrypted with the password, or not) and the certificate chain
    o.key = ks;
    o.cert = ks;
    if (kpw) o.passphrase = kpw;
  } else {
    throw unsupportedType(ksKey, s.keyStoreLocation, kt);
  }
  if (s.trustStoreLocation) {
    const tsKey = `${s.prefix}trustStore.location`;
    const tt = storeType(tsKey, s.trustStoreLocation, s.trustStoreType);
    const ts = read(tsKey, s.trustStoreLocation);
    if (tt === 'PKCS12') {
      try {
        o.ca = pkcs12Certificates(ts, password(s, 'trustStore'));
      } catch (e) {
        throw new TlsConfigError(tsKey, `cannot read the PKCS12 trust store ${s.trustStoreLocation}: ${(e as Error).message}`);
      }
    } else if (tt === 'PEM') {
      o.ca = ts;
    } else {
      throw unsupportedType(tsKey, s.trustStoreLocation, tt);
    }
  }
  // protocols: ssl.enabledProtocols, else just ssl.protocol
  const enabled = (s.enabledProtocols?.length ? s.enabledProtocols : [s.protocol]).map((p) => {
    const v = PROTOCOLS.find((x) => x.toLowerCase() === p.toLowerCase() || (p.toUpperCase() === 'TLS' && x === 'TLSv1.3'));
    if (!v) throw new TlsConfigError(s.enabledProtocols?.length ? `${s.prefix}enabledProtocols` : `${s.prefix}protocol`, `unknown protocol "${p}": expected TLSv1.2 or TLSv1.3`);
    return v;
  });
  const idx = enabled.map((p) => PROTOCOLS.indexOf(p));
  o.minVersion = PROTOCOLS[Math.min(...idx)] as Proto;
  o.maxVersion = PROTOCOLS[Math.max(...idx)] as Proto;
  const suites = s.cipherSuites?.length ? s.cipherSuites : DEFAULT_CIPHERS;
  const v12: string[] = [];
  const v13: string[] = [];
  for (const c of suites) {
    if (TLS13_SUITES.has(c)) v13.push(c);
    else if (CIPHERS[c]) v12.push(CIPHERS[c]);
    else if (s.cipherSuites?.length) throw new TlsConfigError(`${s.prefix}ciphersuites`, `unknown cipher suite "${c}" (give Java's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`);
  }
  // Node takes the TLSv1.3 suites (TLS_…) in the same list
  o.ciphers = [...v13, ...v12].join(':');
  return o;
}

/** The client port's TLS settings (ssl.*) from a loaded configuration. */
export function clientTlsSettings(
  c: Pick<
    ServerConfig,
    | 'sslKeyStoreLocation'
    | 'sslKeyStorePassword'
    | 'sslKeyStorePasswordPath'
    | 'sslKeyStoreType'
    | 'sslTrustStoreLocation'
    | 'sslTrustStorePassword'
    | 'sslTrustStorePasswordPath'
    | 'sslTrustStoreType'
    | 'sslProtocol'
    | 'sslEnabledProtocols'
    | 'sslCiphersuites'
    | 'sslClientAuth'
  >,
): TlsSettings {
  return {
    prefix: 'ssl.',
    keyStoreLocation: c.sslKeyStoreLocation,
    keyStorePassword: c.sslKeyStorePassword,
    keyStorePasswordPath: c.sslKeyStorePasswordPath,
    keyStoreType: c.sslKeyStoreType,
    trustStoreLocation: c.sslTrustStoreLocation,
    trustStorePassword: c.sslTrustStorePassword,
    trustStorePasswordPath: c.sslTrustStorePasswordPath,
    trustStoreType: c.sslTrustStoreType,
    protocol: c.sslProtocol,
    enabledProtocols: c.sslEnabledProtocols,
    cipherSuites: c.sslCiphersuites,
    clientAuth: c.sslClientAuth,
  };
}

/** The quorum's TLS settings (ssl.quorum.*). */
export function quorumTlsSettings(
  c: Pick<
    ServerConfig,
    | 'sslQuorumKeyStoreLocation'
    | 'sslQuorumKeyStorePassword'
    | 'sslQuorumKeyStorePasswordPath'
    | 'sslQuorumKeyStoreType'
    | 'sslQuorumTrustStoreLocation'
    | 'sslQuorumTrustStorePassword'
    | 'sslQuorumTrustStorePasswordPath'
    | 'sslQuorumTrustStoreType'
    | 'sslQuorumProtocol'
    | 'sslQuorumEnabledProtocols'
    | 'sslQuorumCiphersuites'
    | 'sslQuorumClientAuth'
  >,
): TlsSettings {
  return {
    prefix: 'ssl.quorum.',
    keyStoreLocation: c.sslQuorumKeyStoreLocation,
    keyStorePassword: c.sslQuorumKeyStorePassword,
    keyStorePasswordPath: c.sslQuorumKeyStorePasswordPath,
    keyStoreType: c.sslQuorumKeyStoreType,
    trustStoreLocation: c.sslQuorumTrustStoreLocation,
    trustStorePassword: c.sslQuorumTrustStorePassword,
    trustStorePasswordPath: c.sslQuorumTrustStorePasswordPath,
    trustStoreType: c.sslQuorumTrustStoreType,
    protocol: c.sslQuorumProtocol,
    enabledProtocols: c.sslQuorumEnabledProtocols,
    cipherSuites: c.sslQuorumCiphersuites,
    clientAuth: c.sslQuorumClientAuth,
  };
}

/** Build the context once, so that a wrong password or a broken store stops the start; the error names the key. */
export function checkTls(s: TlsSettings): void {
  const o = serverContextOptions(s);
  try {
    tls.createSecureContext(o);
  } catch (e) {
    const msg = (e as Error).message;
    const key = /mac verify|bad decrypt|passphrase|password/i.test(msg) ? `${s.prefix}keyStore.password` : `${s.prefix}keyStore.location`;
    throw new TlsConfigError(key, `cannot use the key store ${s.keyStoreLocation}: ${msg}`);
  }
}

/**
 * A stream that yields `first` and then whatever `sock` reads, and writes to `sock`: what a TLS
 * server is handed when port unification has already read a connection's first bytes (a TLSSocket
 * over the socket itself would read its handle and miss them).
 */
export function streamStartingWith(sock: net.Socket, first: Buffer): Duplex {
  const inner = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      sock.write(chunk, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  inner.push(first);
  sock.on('data', (d: Buffer) => inner.push(d));
  sock.on('end', () => inner.push(null));
  sock.on('close', () => inner.destroy());
  return inner;
}

/** The first byte of a TLS handshake record (a ClientHello): how port unification tells TLS from plaintext. */
export const TLS_HANDSHAKE = 0x16;
