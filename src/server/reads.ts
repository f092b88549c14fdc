// The read requests (FinalRequestProcessor's read half): run against the DataTree when they reach
// the head of their connection's queue, answered with the tree's lastProcessedZxid.
import { JuteError, JuteWriter } from '../jute/archive';
import { readPathType, readPathWatch, readSetWatches, writeACLs, writeMultiHeader, writeReplyHeader } from '../jute/records';
import { AddWatchMode, Err, KeeperError, OpCode, Perms, WatcherType, Xid } from '../data/constants';
import { DataNode, DataTree } from '../data/datatree';
import { AuthPolicy, checkACL, hasPerm, userOf } from './auth';
import { Cnxn, Logger, Request } from './cnxn';
import { readMultiOps } from './prep';

export interface ReadContext {
  readonly tree: DataTree;
  readonly skipACL: boolean;
  readonly auth?: AuthPolicy;
  readonly logger: Logger;
}

/**
 * Run a read that has reached the head of its connection's queue and write its reply frame into the
 * connection's output. A setWatches may fire events at this connection while it runs, and those go
 * out first (as in ZooKeeper), so its reply is built apart and appended after them; every other read
 * writes straight into the output, without a buffer of its own per request.
 */
export function runRead(ctx: ReadContext, c: Cnxn, req: Request): void {
  const firesEvents = req.type === OpCode.setWatches || req.type === OpCode.setWatches2;
  const w = firesEvents ? new JuteWriter(128) : c.writer();
  writeReadReply(ctx, c, req, w);
  if (firesEvents) c.writer().writeRaw(w.finish());
}

function writeReadReply(ctx: ReadContext, c: Cnxn, req: Request, w: JuteWriter): void {
  const at = w.beginFrame();
  const zxid = ctx.tree.lastProcessedZxid;
  writeReplyHeader(w, req.xid, zxid, 0);
  const bodyStart = w.offset;
  let err: number = Err.OK;
  try {
    read(ctx, c, req, w);
  } catch (e) {
    if (e instanceof KeeperError) err = e.code;
    else if (e instanceof JuteError) err = Err.MARSHALLINGERROR;
    else {
      ctx.logger.warn({ err: String(e), type: req.type }, 'unexpected error serving a read');
      err = Err.SYSTEMERROR;
    }
  }
  if (req.type === OpCode.ping) {
    w.offset = bodyStart - 16;
    writeReplyHeader(w, Xid.PING, zxid, 0);
  } else if (err !== Err.OK) {
    w.offset = bodyStart - 16;
    writeReplyHeader(w, req.xid, zxid, err);
  }
  w.endFrame(at);
  req.done = true;
}

/** getChildren's list: the names, cut from the children's paths as they are written. */
function writeChildNames(w: JuteWriter, parent: string, n: DataNode): void {
  const from = parent === '/' ? 1 : parent.length + 1;
  w.writeInt(n.childCount);
  for (const p of n.childPaths) w.writeStringFrom(p, from);
}

function node(ctx: ReadContext, path: string) {
  const n = ctx.tree.getNode(path);
  if (!n) throw new KeeperError(Err.NONODE, path);
  return n;
}

function read(ctx: ReadContext, c: Cnxn, req: Request, w: JuteWriter): void {
  const r = req.body;
  const skip = ctx.skipACL;
  switch (req.type) {
    case OpCode.ping:
      return;
    case OpCode.exists: {
      const { path, watch } = readPathWatch(r);
      if (path.indexOf('\u0000') !== -1) throw new KeeperError(Err.BADARGUMENTS);
      if (watch) ctx.tree.addDataWatch(path, c);
      node(ctx, path).writeStat(w);
      return;
    }
    case OpCode.getData: {
      const { path, watch } = readPathWatch(r);
      const n = node(ctx, path);
      checkACL(ctx.tree.aclOf(n), Perms.READ, c.authIds, skip, ctx.auth);
      if (watch) ctx.tree.addDataWatch(path, c);
      w.writeLatin1(n.raw);
      n.writeStat(w);
      return;
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const { path, watch } = readPathWatch(r);
      const n = node(ctx, path);
      checkACL(ctx.tree.aclOf(n), Perms.READ, c.authIds, skip, ctx.auth);
      if (watch) ctx.tree.addChildWatch(path, c);
      writeChildNames(w, path, n);
      if (req.type === OpCode.getChildren2) n.writeStat(w);
      return;
    }
    case OpCode.getACL: {
      const path = r.readStr();
      const n = node(ctx, path);
      const acl = ctx.tree.aclOf(n);
      checkACL(acl, Perms.READ | Perms.ADMIN, c.authIds, skip, ctx.auth);
      if (hasPerm(acl, Perms.ADMIN, c.authIds, skip, ctx.auth)) writeACLs(w, acl);
      else
        writeACLs(
          w,
          acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/, ':x') } } : a)),
        );
      n.writeStat(w);
      return;
    }
    case OpCode.getAllChildrenNumber: {
      const path = r.readStr();
      const n = node(ctx, path);
      checkACL(ctx.tree.aclOf(n), Perms.READ, c.authIds, skip, ctx.auth);
      w.writeInt(ctx.tree.countDescendants(path));
      return;
    }
    case OpCode.getEphemerals: {
      const prefix = r.readString();
      const all = ctx.tree.ephemerals.get(c.sessionId) ?? new Set<string>();
      const list: string[] = [];
      const p = prefix?.trim();
      for (const e of all) if (!p || p === '/' || e.startsWith(prefix!)) list.push(e);
      w.writeVector(list, (x, s) => x.writeString(s));
      return;
    }
    case OpCode.sync: {
      w.writeString(r.readStr());
      return;
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const { path, type } = readPathType(r);
      if (type !== WatcherType.Children && type !== WatcherType.Data && type !== WatcherType.Any) {
        throw new KeeperError(Err.MARSHALLINGERROR);
      }
      const data = type !== WatcherType.Children;
      const child = type !== WatcherType.Data;
      let found = false;
      if (req.type === OpCode.checkWatches) {
        found = (data && ctx.tree.dataWatches.has(path, c)) || (child && ctx.tree.childWatches.has(path, c));
      } else {
        if (data && ctx.tree.dataWatches.remove(path, c)) found = true;
        if (child && ctx.tree.childWatches.remove(path, c)) found = true;
      }
      if (!found) throw new KeeperError(Err.NOWATCHER);
      return;
    }
    case OpCode.addWatch: {
      const path = r.readStr();
      const mode = r.readInt();
      if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
        // WatcherMode.fromZooDef throws; FinalRequestProcessor answers MARSHALLINGERROR
        throw new KeeperError(Err.MARSHALLINGERROR);
      }
      ctx.tree.addPersistentWatch(path, c, mode === AddWatchMode.PERSISTENT_RECURSIVE);
      w.writeInt(0);
      return;
    }
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const s = readSetWatches(r, req.type === OpCode.setWatches2);
      ctx.tree.setWatches(
        s.relativeZxid,
        s.dataWatches,
        s.existWatches,
        s.childWatches,
        s.persistentWatches,
        s.persistentRecursiveWatches,
        c,
      );
      return;
    }
    case OpCode.whoAmI: {
      w.writeVector(c.authIds, (x, id) => {
        x.writeString(id.scheme);
        x.writeString(userOf(id, ctx.auth));
      });
      return;
    }
    case OpCode.multiRead: {
      const ops = readMultiOps(r, true);
      for (const op of ops) {
        const { path, } = readPathWatch(op.body);
        const n = ctx.tree.getNode(path);
        let err: number = Err.OK;
        if (!n) err = Err.NONODE;
        else if (!hasPerm(ctx.tree.aclOf(n), Perms.READ, c.authIds, skip, ctx.auth)) err = Err.NOAUTH;
        if (err !== Err.OK || !n) {
          writeMultiHeader(w, -1, false, err);
          w.writeInt(err);
          continue;
        }
        if (op.type === OpCode.getData) {
          writeMultiHeader(w, OpCode.getData, false, 0);
          w.writeLatin1(n.raw);
          n.writeStat(w);
        } else {
          writeMultiHeader(w, OpCode.getChildren, false, 0);
          writeChildNames(w, path, n);
        }
      }
      writeMultiHeader(w, -1, true, -1);
      return;
    }
    default:
      throw new KeeperError(Err.UNIMPLEMENTED);
  }
}
