// The snapshot stream a leader sends after SNAP (ZKDatabase.serializeSnapshot): raw jute, no file
// header and no checksum — sessions, the ACL map, the node list ended by "/", then "BenWasHere".
import { JuteReader, JuteWriter } from '../jute/archive';
import { readACLs, writeACLs } from '../jute/records';
import { DataNode, DataTree, parentOf } from '../data/datatree';
import { clearTree, indexNodeOwner, writeStatPersisted } from '../persistence/snapshot';

export const SNAP_SIGNATURE = 'BenWasHere';

export function serializeSnapStream(tree: DataTree): Buffer {
  const w = new JuteWriter(1 << 16);
  w.writeInt(tree.sessions.size);
  for (const [id, to] of tree.sessions) {
    w.writeBigLong(id);
    w.writeInt(to);
  }
  w.writeInt(tree.acls.byRef.size);
  for (const [ref, list] of tree.acls.byRef) {
    w.writeLong(ref);
    writeACLs(w, list);
  }
  const stack = ['/'];
  while (stack.length) {
    const p = stack.pop()!;
    const n = tree.nodes.get(p)!;
    w.writeString(p === '/' ? '' : p);
    w.writeLatin1(n.raw);
    w.writeLong(n.aclRef);
    writeStatPersisted(w, n);
    const prefix = p === '/' ? '/' : p + '/';
    for (const c of n.children) stack.push(prefix + c);
  }
  w.writeString('/');
  w.writeString(SNAP_SIGNATURE);
  return Buffer.from(w.finish());
}

/**
 * Parse a snapshot stream from `r`. Returns null when more bytes are needed (the reader's offset is
 * then unchanged), else the tree and the bytes consumed.
 */
export function parseSnapStream(buf: Buffer, offset: number, zxid: number): { tree: DataTree; end: number } | null {
  const r = new JuteReader(buf, offset, buf.length, Number.MAX_SAFE_INTEGER);
  try {
    const tree = new DataTree();
    clearTree(tree);
    const ns = r.readInt();
    for (let i = 0; i < ns; i++) {
      const id = r.readBigLong();
      tree.sessions.set(id, r.readInt());
    }
    const na = r.readInt();
    for (let i = 0; i < na; i++) {
      const ref = r.readLong();
      tree.acls.put(ref, readACLs(r) ?? []);
    }
    // the constructor's /zookeeper/config ACL ref is replaced by the stream's map
    for (;;) {
      const p = r.readStr();
      if (p === '/') break;
      const data = r.readLatin1();
      const aclRef = r.readLong();
      const node = new DataNode(
        data,
        aclRef,
        r.readLong(),
        r.readLong(),
        r.readLong(),
        r.readLong(),
        r.readInt(),
        r.readInt(),
        r.readInt(),
        r.readOwner(),
        r.readLong(),
      );
      const key = p === '' ? '/' : p;
      if (p !== '') {
        const parent = tree.nodes.get(parentOf(p));
        if (!parent) throw new Error(`Invalid Datatree, unable to find parent ${parentOf(p)} of path ${p}`);
        parent.addChild(p.substring(p.lastIndexOf('/') + 1));
      }
      tree.nodes.set(key, node);
      tree.acls.addUsage(aclRef);
      indexNodeOwner(tree, key, node.ephemeralOwner);
    }
    const sig = r.readStr();
    if (sig !== SNAP_SIGNATURE) throw new Error('Missing signature');
    tree.acls.purgeUnused();
    tree.lastProcessedZxid = zxid;
    return { tree, end: r.offset };
  } catch (e) {
    if ((e as Error).message.startsWith('record truncated')) return null;
    throw e;
  }
}
