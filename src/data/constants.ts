// ZooKeeper's numeric vocabulary: opcodes (ZooDefs.OpCode), error codes (KeeperException.Code),
// permissions, create modes, watch event types and states.

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OpCode).map(([k, v]) => [v, k]),
);

export const Err = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

/** A request failure carrying a ZooKeeper error code. */
export class KeeperError extends Error {
  constructor(readonly code: number, message?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // an expected outcome (NODEEXISTS, BADVERSION, ...), thrown on hot paths: no stack trace
    super(message ?? `KeeperErrorCode ${code}`);
    Error.stackTraceLimit = limit;
    this.name = 'KeeperError';
  }
}

export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
} as const;

export const KeeperState = { SyncConnected: 3 } as const;

export const WatcherType = { Children: 1, Data: 2, Any: 3 } as const;

export const AddWatchMode = { PERSISTENT: 0, PERSISTENT_RECURSIVE: 1 } as const;

/** Special xids (ClientCnxn). */
export const Xid = { NOTIFICATION: -1, PING: -2, AUTH: -4, SET_WATCHES: -8 } as const;

/** ephemeralOwner marker for containers; TTL owners are 0xFF00_0000_0000_0000 | ttl. */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
export const TTL_MASK = 0xff00000000000000n;
export const MAX_TTL = 0xffffffffff;

export function ttlOwner(ttl: number): bigint {
  return BigInt.asIntN(64, TTL_MASK | BigInt(ttl));
}
/** The TTL encoded in an ephemeralOwner, or -1 when it is not a TTL owner. */
export function ownerTtl(owner: bigint): number {
  const u = BigInt.asUintN(64, owner);
  if (u >> 56n === 0xffn && ((u >> 40n) & 0xffffn) === 0n) return Number(u & 0xffffffffffn);
  return -1;
}
