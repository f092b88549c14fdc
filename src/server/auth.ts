// Authentication providers and ACL checks (ZooKeeper's ProviderRegistry, DigestAuthenticationProvider,
// IPAuthenticationProvider, ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL).
import { createHash } from 'node:crypto';
import { JuteReader } from '../jute/archive';
import { ACL, Id, readAuthPacket } from '../jute/records';
import { Err, KeeperError, Perms } from '../data/constants';

export function digestOf(userPass: string): string {
  const i = userPass.indexOf(':');
  const user = i < 0 ? userPass : userPass.substring(0, i);
  return `${user}:${createHash('sha1').update(userPass, 'utf8').digest('base64')}`;
}

function ipToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

export function ipMatches(clientIp: string, aclExpr: string): boolean {
  const [addr, bitsStr] = aclExpr.split('/');
  const a = ipToInt(addr);
  const c = ipToInt(clientIp.startsWith('::ffff:') ? clientIp.substring(7) : clientIp);
  if (a === null || c === null) return false;
  let bits = 32;
  if (bitsStr !== undefined) {
    bits = Number(bitsStr);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  }
  if (bits === 0) return true;
  const shift = 32 - bits;
  return Math.floor(a / 2 ** shift) === Math.floor(c / 2 ** shift);
}

/**
 * The auth schemes this server has (ProviderRegistry): ip always, digest unless
 * DigestAuthenticationProvider.enabled=false, and those of the authProvider.<n> keys (sasl, x509).
 * A scheme without a provider is not valid in an ACL, never matches one, and is not one that `auth`
 * ACLs expand to.
 */
export interface AuthPolicy {
  readonly schemes: ReadonlySet<string>;
  /** letAnySaslUserDoX: a sasl: ACL id every SASL user matches */
  readonly letAnySaslUserDoX?: string;
  /** X509AuthenticationProvider.superUser */
  readonly x509SuperUser?: string;
}

export const DEFAULT_AUTH: AuthPolicy = { schemes: new Set(['ip', 'digest']) };

export function authPolicy(o: { authProviders: readonly string[]; letAnySaslUserDoX?: string; x509SuperUser?: string }): AuthPolicy {
  return { schemes: new Set(o.authProviders), letAnySaslUserDoX: o.letAnySaslUserDoX, x509SuperUser: o.x509SuperUser };
}

const KERBEROS_NAME = /^([^/@]*)(\/([^/@]*))?@([^/@]*)$/;

export function isValidId(scheme: string, id: string, policy: AuthPolicy = DEFAULT_AUTH): boolean {
  switch (scheme) {
    case 'world':
      return id === 'anyone';
    case 'super':
      return true;
  }
  if (!policy.schemes.has(scheme)) return false;
  switch (scheme) {
    case 'digest': {
      // as Java's String.split, which drops trailing empty strings ("user:" is one part)
      const parts = id.split(':');
      while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      return parts.length === 2;
    }
    case 'ip': {
      const [addr, bits, ...rest] = id.split('/');
      if (rest.length > 0 || ipToInt(addr) === null) return false;
      if (bits === undefined) return true;
      return /^\d+$/.test(bits) && Number(bits) <= 32;
    }
    case 'sasl':
      // a Kerberos name: with an '@' it must be user[/host]@REALM (SASLAuthenticationProvider.isValid)
      return !id.includes('@') || KERBEROS_NAME.test(id);
    case 'x509':
      // an X.500 name (X509AuthenticationProvider.isValid): attribute=value parts, or nothing
      return id.trim() === '' || id.split(/(?<!\\)[,+]/).every((rdn) => /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)\s*=/.test(rdn));
    default:
      return false;
  }
}

/** Schemes that authenticate a user (isAuthenticated): the ones that `auth` ACLs expand to. */
export function isAuthenticatedScheme(scheme: string, policy: AuthPolicy = DEFAULT_AUTH): boolean {
  if (scheme === 'super') return true;
  return (scheme === 'digest' || scheme === 'sasl' || scheme === 'x509') && policy.schemes.has(scheme);
}

export function matches(scheme: string, clientId: string, aclId: string, policy: AuthPolicy = DEFAULT_AUTH): boolean {
  if (!policy.schemes.has(scheme)) return false;
  switch (scheme) {
    case 'ip':
      return ipMatches(clientId, aclId);
    case 'sasl':
      // SASLAuthenticationProvider.matches: a SASL user named super matches every sasl ACL
      return clientId === 'super' || clientId === aclId || (policy.letAnySaslUserDoX !== undefined && aclId === policy.letAnySaslUserDoX);
    case 'x509':
      return clientId === aclId || (policy.x509SuperUser !== undefined && clientId === policy.x509SuperUser);
    default:
      return clientId === aclId;
  }
}

export function checkACL(acl: readonly ACL[] | null, perm: number, ids: readonly Id[], skipACL = false, policy: AuthPolicy = DEFAULT_AUTH): void {
  if (skipACL) return;
  if (!acl || acl.length === 0) return;
  for (const id of ids) if (id.scheme === 'super') return;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return;
    for (const id of ids) {
      if (id.scheme === a.id.scheme && matches(id.scheme, id.id, a.id.id, policy)) return;
    }
  }
  throw new KeeperError(Err.NOAUTH);
}

export function hasPerm(acl: readonly ACL[] | null, perm: number, ids: readonly Id[], skipACL = false, policy: AuthPolicy = DEFAULT_AUTH): boolean {
  try {
    checkACL(acl, perm, ids, skipACL, policy);
    return true;
  } catch {
    return false;
  }
}

/** Validate and expand an ACL list for create/setACL. */
export function fixupACL(acl: ACL[] | null, authIds: readonly Id[], policy: AuthPolicy = DEFAULT_AUTH): ACL[] {
  if (!acl || acl.length === 0) throw new KeeperError(Err.INVALIDACL);
  if (acl.length === 1 && acl[0]?.id && acl[0].id.scheme !== 'auth') {
    // one entry (most creates: world:anyone): nothing to expand or to drop as a duplicate
    const { scheme, id } = acl[0].id;
    if (!(scheme === 'world' && id === 'anyone') && (scheme === 'super' || !isValidId(scheme, id, policy))) throw new KeeperError(Err.INVALIDACL);
    return acl;
  }
  const out: ACL[] = [];
  const seen = new Set<string>();
  const push = (a: ACL): void => {
    const k = `${a.perms}|${a.id.scheme}|${a.id.id}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(a);
  };
  for (const a of acl) {
    if (!a || !a.id) throw new KeeperError(Err.INVALIDACL);
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') {
      push(a);
    } else if (scheme === 'auth') {
      let any = false;
      for (const cid of authIds) {
        if (isAuthenticatedScheme(cid.scheme, policy)) {
          push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
          any = true;
        }
      }
      if (!any) throw new KeeperError(Err.INVALIDACL);
    } else {
      if (scheme === 'super' || !isValidId(scheme, id, policy)) throw new KeeperError(Err.INVALIDACL);
      push(a);
    }
  }
  return out;
}

export const READ_OR_ADMIN = Perms.READ | Perms.ADMIN;

/** The user name whoami shows for an id (AuthUtil.getUser): '' for a scheme without a provider. */
export function userOf(id: Id, policy: AuthPolicy = DEFAULT_AUTH): string {
  if (!policy.schemes.has(id.scheme)) return '';
  return id.scheme === 'digest' ? id.id.split(':')[0] : id.id;
}

/** Java's String.hashCode (UTF-16 code units, 32-bit). */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Where an id sits in a connection's id set as ZooKeeper iterates it (ServerCnxn.authInfo is a set
 * over a ConcurrentHashMap): the bin of the jute Id's hashCode in a table of 16 (32, 64… as it
 * grows past 3/4 full). whoami lists the ids, and `auth` ACLs expand to them, in this order.
 */
function idBin(id: Id, tableSize: number): number {
  let h = 17;
  h = (Math.imul(37, h) + javaHash(id.scheme)) | 0;
  h = (Math.imul(37, h) + javaHash(id.id)) | 0;
  return ((h ^ (h >>> 16)) & 0x7fffffff) & (tableSize - 1);
}

/** Give a connection an id (once), keeping ZooKeeper's order of its ids. */
export function addId(c: { authIds: Id[] }, id: Id): void {
  if (c.authIds.some((x) => x.scheme === id.scheme && x.id === id.id)) return;
  c.authIds.push(id);
  let size = 16;
  while (c.authIds.length > (size * 3) / 4) size *= 2;
  // a stable sort: ids in one bin stay in the order they were added
  const bins = new Map(c.authIds.map((x) => [x, idBin(x, size)]));
  c.authIds.sort((a, b) => bins.get(a)! - bins.get(b)!);
}

/**
 * An auth packet (addauth): the digest scheme adds `digest:<user>:<hash>` (and `super` for the
 * super digest), the ip scheme the client's address. Returns ZooKeeper's error code: OK, or
 * AUTHFAILED for another scheme or a malformed packet.
 */
export function addAuth(c: { authIds: Id[]; io: { remoteAddress: string } }, body: JuteReader, superDigest: string | undefined, policy: AuthPolicy = DEFAULT_AUTH): number {
  const add = (id: Id): void => addId(c, id);
  try {
    const a = readAuthPacket(body);
    if (a.scheme === 'digest' && policy.schemes.has('digest')) {
      const d = digestOf(a.auth.toString('utf8'));
      if (superDigest && d === superDigest) add({ scheme: 'super', id: '' });
      add({ scheme: 'digest', id: d });
      return Err.OK;
    }
    if (a.scheme === 'ip') {
      add({ scheme: 'ip', id: c.io.remoteAddress.replace(/^::ffff:/, '') });
      return Err.OK;
    }
  } catch {
    // malformed: AUTHFAILED, as ZooKeeper answers
  }
  return Err.AUTHFAILED;
}
