// The reply of a write, built once its txn is applied (FinalRequestProcessor's write half).
import { JuteError, JuteWriter } from '../jute/archive';
import { TxnHeader, writeMultiHeader, writeReplyHeader, writeStat } from '../jute/records';
import { Err, OpCode } from '../data/constants';
import { DataTree, ProcessResult } from '../data/datatree';
import { Request } from './cnxn';

/** The reply frame of an applied write, in a buffer of its own (to wait for its turn in the queue). */
export function buildWriteReply(tree: DataTree, req: Request, hdr: TxnHeader, rc: ProcessResult): Buffer {
  const w = new JuteWriter(128);
  writeWriteReply(w, tree, req, hdr, rc);
  return w.finish();
}

/** The reply frame of a sync (SyncResponse: its path), once whatever it waited for is applied. */
export function buildSyncReply(tree: DataTree, req: Request): Buffer {
  const w = new JuteWriter(64);
  const at = w.beginFrame();
  writeSyncBody(w, req, tree.lastProcessedZxid);
  w.endFrame(at);
  return w.finish();
}

/**
 * SyncResponse(path); a path that does not parse is answered MARSHALLINGERROR, as ZooKeeper's
 * FinalRequestProcessor answers a request record it cannot read. It is parsed only now, when the
 * sync is answered (a learner's, after the leader's SYNC): a throw here would end the role.
 */
function writeSyncBody(w: JuteWriter, req: Request, zxid: number): void {
  const r = req.body;
  let path: string;
  try {
    path = r.remaining() >= 4 ? r.readStr() : '/';
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
    writeReplyHeader(w, req.xid, zxid, Err.MARSHALLINGERROR);
    return;
  }
  writeReplyHeader(w, req.xid, zxid, 0);
  w.writeString(path);
}

/** The reply frame of an applied write, appended to `w` (a connection's output when it is the write's turn). */
export function writeWriteReply(w: JuteWriter, tree: DataTree, req: Request, hdr: TxnHeader, rc: ProcessResult): void {
  const at = w.beginFrame();
  const zxid = tree.lastProcessedZxid;
  if (req.type === OpCode.sync) {
    // a sync a leader answered after a quorum round (linearizableSync)
    writeSyncBody(w, req, zxid);
    w.endFrame(at);
    return;
  }
  if (rc.err !== 0 || hdr.type === OpCode.error) {
    writeReplyHeader(w, req.xid, zxid, rc.err);
    w.endFrame(at);
    return;
  }
  writeReplyHeader(w, req.xid, zxid, 0);
  switch (req.type) {
    case OpCode.create:
      w.writeString(rc.path!);
      break;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.writeString(rc.path!);
      rc.node!.writeStat(w);
      break;
    case OpCode.setData:
    case OpCode.setACL:
      rc.node!.writeStat(w);
      break;
    case OpCode.reconfig:
      // GetDataResponse: the new membership and /zookeeper/config's stat
      w.writeBuffer(tree.getNode('/zookeeper/config')?.data ?? null);
      rc.node!.writeStat(w);
      break;
    case OpCode.multi:
      for (const sub of rc.multi!) {
        if (sub.err !== 0 || sub.type === OpCode.error) {
          writeMultiHeader(w, -1, false, sub.err);
          w.writeInt(sub.err);
          continue;
        }
        switch (sub.type) {
          case OpCode.create:
            writeMultiHeader(w, OpCode.create, false, 0);
            w.writeString(sub.path!);
            break;
          case OpCode.create2:
          case OpCode.createContainer:
          case OpCode.createTTL:
            writeMultiHeader(w, OpCode.create2, false, 0);
            w.writeString(sub.path!);
            writeStat(w, sub.stat!);
            break;
          case OpCode.delete:
          case OpCode.deleteContainer:
            writeMultiHeader(w, OpCode.delete, false, 0);
            break;
          case OpCode.setData:
            writeMultiHeader(w, OpCode.setData, false, 0);
            writeStat(w, sub.stat!);
            break;
          case OpCode.check:
            writeMultiHeader(w, OpCode.check, false, 0);
            break;
        }
      }
      writeMultiHeader(w, -1, true, -1);
      break;
    default:
      break;
  }
  w.endFrame(at);
}
