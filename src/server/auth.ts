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

export function isValidId(scheme: string, id: string): boolean {
  switch (scheme) {
    case 'world':
      return id === 'anyone';
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
    case 'super':
      return true;
    default:
      return false;
  }
}

/** Schemes that authenticate a user (isAuthenticated): the ones that `auth` ACLs expand to. */
export function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === 'digest' || scheme === 'super';
}

export function matches(scheme: string, clientId: string, aclId: string): boolean {
  switch (scheme) {
    case 'ip':
      return ipMatches(clientId, aclId);
    default:
      return clientId === aclId;
  }
}

export function checkACL(acl: readonly ACL[] | null, perm: number, ids: readonly Id[], skipACL = false): void {
  if (skipACL) return;
  if (!acl || acl.length === 0) return;
  for (const id of ids) if (id.scheme === 'super') return;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return;
    for (const id of ids) {
      if (id.scheme === a.id.scheme && matches(id.scheme, id.id, a.id.id)) return;
    }
  }
  throw new KeeperError(Err.NOAUTH);
}

export function hasPerm(acl: readonly ACL[] | null, perm: number, ids: readonly Id[], skipACL = false): boolean {
  try {
    checkACL(acl, perm, ids, skipACL);
    return true;
  } catch {
    return false;
  }
}

/** Validate and expand an ACL list for create/setACL. */
export function fixupACL(acl: ACL[] | null, authIds: readonly Id[]): ACL[] {
  if (!acl || acl.length === 0) throw new KeeperError(Err.INVALIDACL);
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
        if (isAuthenticatedScheme(cid.scheme)) {
          push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
          any = true;
        }
      }
      if (!any) throw new KeeperError(Err.INVALIDACL);
    } else {
      if (scheme === 'super' || !isValidId(scheme, id)) throw new KeeperError(Err.INVALIDACL);
      push(a);
    }
  }
  return out;
}

export const READ_OR_ADMIN = Perms.READ | Perms.ADMIN;

/**
 * An auth packet (addauth): the digest scheme adds `digest:<user>:<hash>` (and `super` for the
 * super digest), the ip scheme the client's address. Returns ZooKeeper's error code: OK, or
 * AUTHFAILED for another scheme or a malformed packet.
 */
export function addAuth(c: { authIds: Id[]; io: { remoteAddress: string } }, body: JuteReader, superDigest: string | undefined): number {
  const add = (id: Id): void => {
    if (!c.authIds.some((x) => x.scheme === id.scheme && x.id === id.id)) c.authIds.push(id);
  };
  try {
    const a = readAuthPacket(body);
    if (a.scheme === 'digest') {
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
