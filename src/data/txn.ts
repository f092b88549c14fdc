// Txns: the state changes that the log, Zab and the DataTree agree on. One txn = TxnHeader + body;
// bodies are the org.apache.zookeeper.txn records (docs/disk-format.md §5).
import { JuteReader, JuteWriter } from '../jute/archive';
import { ACL, readACLs, readTxnHeader, TxnHeader, writeACLs, writeTxnHeader } from '../jute/records';
import { OpCode } from './constants';

export type Txn =
  | { type: typeof OpCode.create | typeof OpCode.create2; path: string; data: Buffer | null; acl: ACL[]; ephemeral: boolean; parentCVersion: number }
  | { type: typeof OpCode.createContainer; path: string; data: Buffer | null; acl: ACL[]; parentCVersion: number }
  | { type: typeof OpCode.createTTL; path: string; data: Buffer | null; acl: ACL[]; parentCVersion: number; ttl: number }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string }
  | { type: typeof OpCode.setData | typeof OpCode.reconfig; path: string; data: Buffer | null; version: number }
  | { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.error; err: number }
  | { type: typeof OpCode.createSession; timeOut: number }
  | { type: typeof OpCode.closeSession; paths: string[] | null }
  | { type: typeof OpCode.multi; txns: Txn[] };

export class UnsupportedTxnError extends Error {}

export function writeTxnBody(w: JuteWriter, t: Txn): void {
  switch (t.type) {
    case OpCode.create:
    case OpCode.create2:
      w.writeString(t.path);
      w.writeBuffer(t.data);
      writeACLs(w, t.acl);
      w.writeBool(t.ephemeral);
      w.writeInt(t.parentCVersion);
      return;
    case OpCode.createContainer:
      w.writeString(t.path);
      w.writeBuffer(t.data);
      writeACLs(w, t.acl);
      w.writeInt(t.parentCVersion);
      return;
    case OpCode.createTTL:
      w.writeString(t.path);
      w.writeBuffer(t.data);
      writeACLs(w, t.acl);
      w.writeInt(t.parentCVersion);
      w.writeLong(t.ttl);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      w.writeString(t.path);
      return;
    case OpCode.setData:
    case OpCode.reconfig:
      w.writeString(t.path);
      w.writeBuffer(t.data);
      w.writeInt(t.version);
      return;
    case OpCode.setACL:
      w.writeString(t.path);
      writeACLs(w, t.acl);
      w.writeInt(t.version);
      return;
    case OpCode.check:
      w.writeString(t.path);
      w.writeInt(t.version);
      return;
    case OpCode.error:
      w.writeInt(t.err);
      return;
    case OpCode.createSession:
      w.writeInt(t.timeOut);
      return;
    case OpCode.closeSession:
      if (t.paths !== null) w.writeVector(t.paths, (x, p) => x.writeString(p));
      return;
    case OpCode.multi: {
      w.writeInt(t.txns.length);
      for (const sub of t.txns) {
        const sw = new JuteWriter(64);
        writeTxnBody(sw, sub);
        w.writeInt(sub.type);
        w.writeBuffer(sw.finish());
      }
      return;
    }
  }
}

export function readTxnBody(type: number, r: JuteReader): Txn {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const path = r.readStr();
      const data = r.readBuffer();
      const acl = readACLs(r) ?? [];
      const ephemeral = r.readBool();
      // pre-3.3 CreateTxnV0 has no parentCVersion
      const parentCVersion = r.remaining() >= 4 ? r.readInt() : -1;
      return { type, path, data, acl, ephemeral, parentCVersion };
    }
    case OpCode.createContainer: {
      const path = r.readStr();
      const data = r.readBuffer();
      const acl = readACLs(r) ?? [];
      return { type, path, data, acl, parentCVersion: r.readInt() };
    }
    case OpCode.createTTL: {
      const path = r.readStr();
      const data = r.readBuffer();
      const acl = readACLs(r) ?? [];
      const parentCVersion = r.readInt();
      return { type, path, data, acl, parentCVersion, ttl: r.readLong() };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, path: r.readStr() };
    case OpCode.setData:
    case OpCode.reconfig:
      return { type, path: r.readStr(), data: r.readBuffer(), version: r.readInt() };
    case OpCode.setACL:
      return { type, path: r.readStr(), acl: readACLs(r) ?? [], version: r.readInt() };
    case OpCode.check:
      return { type, path: r.readStr(), version: r.readInt() };
    case OpCode.error:
      return { type, err: r.readInt() };
    case OpCode.createSession:
      return { type, timeOut: r.readInt() };
    case OpCode.closeSession:
      if (r.remaining() < 4) return { type, paths: null };
      return { type, paths: r.readVector((x) => x.readStr()) ?? [] };
    case OpCode.multi: {
      const n = r.readInt();
      const txns: Txn[] = [];
      for (let i = 0; i < n; i++) {
        const subType = r.readInt();
        const data = r.readBuffer() ?? Buffer.alloc(0);
        txns.push(readTxnBody(subType, new JuteReader(data)));
      }
      return { type, txns };
    }
    default:
      throw new UnsupportedTxnError(`Unsupported Txn with type=${type}`);
  }
}

/** The 3.6+ trailer of a txn: the tree digest the leader expects after it (TxnDigest record). */
export interface TxnDigest {
  version: number;
  treeDigest: bigint;
}

/** TxnHeader + body [+ TxnDigest], as written to the txn log and carried in Zab proposals. */
export function serializeTxn(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null, w = new JuteWriter(128)): Buffer {
  writeTxn(w, hdr, txn, digest);
  return w.finish();
}

/** serializeTxn's bytes written at `w`'s offset (the txn log frames them in place). */
export function writeTxn(w: JuteWriter, hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): void {
  writeTxnHeader(w, hdr);
  writeTxnBody(w, txn);
  // a closeSession without its path list (pre-3.6) is told apart by its length alone: no trailer
  if (digest && !(txn.type === OpCode.closeSession && txn.paths === null)) {
    w.writeInt(digest.version);
    w.writeBigLong(digest.treeDigest);
  }
}

/** A txn entry; the digest trailer is optional (error txns and pre-3.6 writers have none). */
export function deserializeTxn(buf: Buffer, r = new JuteReader(buf)): { hdr: TxnHeader; txn: Txn; digest: TxnDigest | null } {
  const hdr = readTxnHeader(r);
  const txn = readTxnBody(hdr.type, r);
  const digest = r.remaining() >= 12 ? { version: r.readInt(), treeDigest: r.readBigLong() } : null;
  return { hdr, txn, digest };
}
