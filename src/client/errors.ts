// KeeperException's vocabulary on the client side: the code names and messages the Java client
// puts in its exceptions ("KeeperErrorCode = NoNode for /x"), which zkCli prints verbatim.
import { Err } from '../data/constants';

const CODE_MESSAGES: Record<number, string> = {
  [Err.OK]: 'ok',
  [Err.SYSTEMERROR]: 'SystemError',
  [Err.RUNTIMEINCONSISTENCY]: 'RuntimeInconsistency',
  [Err.DATAINCONSISTENCY]: 'DataInconsistency',
  [Err.CONNECTIONLOSS]: 'ConnectionLoss',
  [Err.MARSHALLINGERROR]: 'MarshallingError',
  [Err.NEWCONFIGNOQUORUM]: 'NewConfigNoQuorum',
  [Err.RECONFIGINPROGRESS]: 'ReconfigInProgress',
  [Err.UNIMPLEMENTED]: 'Unimplemented',
  [Err.OPERATIONTIMEOUT]: 'OperationTimeout',
  [Err.BADARGUMENTS]: 'BadArguments',
  [Err.APIERROR]: 'APIError',
  [Err.NONODE]: 'NoNode',
  [Err.NOAUTH]: 'NoAuth',
  [Err.BADVERSION]: 'BadVersion',
  [Err.NOCHILDRENFOREPHEMERALS]: 'NoChildrenForEphemerals',
  [Err.NODEEXISTS]: 'NodeExists',
  [Err.INVALIDACL]: 'InvalidACL',
  [Err.AUTHFAILED]: 'AuthFailed',
  [Err.NOTEMPTY]: 'Directory not empty',
  [Err.SESSIONEXPIRED]: 'Session expired',
  [Err.INVALIDCALLBACK]: 'Invalid callback',
  [Err.SESSIONMOVED]: 'Session moved',
  [Err.NOTREADONLY]: 'Not a read-only call',
  [Err.EPHEMERALONLOCALSESSION]: 'Ephemeral node on local session',
  [Err.NOWATCHER]: 'No such watcher',
  [Err.RECONFIGDISABLED]: 'Reconfig is disabled',
  [Err.SESSIONCLOSEDREQUIRESASLAUTH]: 'Session closed because client failed to authenticate',
  [Err.QUOTAEXCEEDED]: 'Quota has exceeded',
  [Err.THROTTLEDOP]: 'Op throttled due to high load',
};

export function codeMessage(code: number): string {
  return CODE_MESSAGES[code] ?? `Unknown error ${code}`;
}

/** A failed request: the server's error code and the client path it was about. */
export class KeeperException extends Error {
  constructor(
    readonly code: number,
    readonly path?: string,
  ) {
    // no " for …" without a path, nor with an empty one (reconfig's)
    super(!path ? `KeeperErrorCode = ${codeMessage(code)}` : `KeeperErrorCode = ${codeMessage(code)} for ${path}`);
    this.name = 'KeeperException';
  }
}

/** Java's IllegalArgumentException: the client refused the request before sending it (bad path, bad TTL). */
export class IllegalArgumentException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalArgumentException';
  }
}

/** PathUtils.validatePath: the client refuses malformed paths before sending anything. */
export function validatePath(path: string, sequential = false): void {
  if (sequential) {
    // a sequential create may end in '/': the server appends the counter
    validatePath(path + '1');
    return;
  }
  if (path.length === 0) throw new IllegalArgumentException('Path length must be > 0');
  if (path[0] !== '/') throw new IllegalArgumentException('Path must start with / character');
  if (path.length === 1) return;
  if (path[path.length - 1] === '/') throw new IllegalArgumentException('Path must not end with / character');
  let reason: string | null = null;
  let last = '/';
  for (let i = 1; i < path.length; last = path[i], i++) {
    const c = path[i];
    const code = path.charCodeAt(i);
    const endsName = i + 1 === path.length || path[i + 1] === '/';
    if (code === 0) reason = `null character not allowed @${i}`;
    else if (c === '/' && last === '/') reason = `empty node name specified @${i}`;
    else if (c === '.' && last === '.') {
      if (path[i - 2] === '/' && endsName) reason = `relative paths not allowed @${i}`;
    } else if (c === '.') {
      if (path[i - 1] === '/' && endsName) reason = `relative paths not allowed @${i}`;
    } else if ((code > 0 && code <= 0x1f) || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xf8ff) || code >= 0xfff0) {
      reason = `invalid character @${i}`;
    }
    if (reason) break;
  }
  if (reason) throw new IllegalArgumentException(`Invalid path string "${path}" caused by ${reason}`);
}
