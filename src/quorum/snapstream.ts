// The snapshot stream a leader sends after SNAP (LearnerHandler: ZKDatabase.serializeSnapshot,
// then the string "BenWasHere"): the tree body of src/persistence/treebody.ts, raw — no file
// header, no checksum — followed by the signature. One codec with snapshot files.
import { JuteError, JuteReader, JuteWriter } from '../jute/archive';
import { DataTree } from '../data/datatree';
import { encodeTreeBody, TreeBodyParser } from '../persistence/treebody';
import { Logger } from '../util/log';

export const SNAP_SIGNATURE = 'BenWasHere';

export function serializeSnapStream(tree: DataTree): Buffer {
  const sink = { w: new JuteWriter(1 << 16) };
  const body = encodeTreeBody(tree, sink);
  while (!body.next().done);
  sink.w.writeString(SNAP_SIGNATURE);
  return Buffer.from(sink.w.finish());
}

/**
 * Reads a SNAP stream incrementally: `push` the bytes as they arrive; `read()` returns the tree
 * (at `zxid`) once the body and the signature are complete, null while more bytes are needed.
 * `remainder()` then holds the bytes that followed the stream (the next quorum packets).
 */
export class SnapStreamReader {
  private readonly body: TreeBodyParser;
  private tail: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(
    private readonly zxid: number,
    log?: Logger,
  ) {
    this.body = new TreeBodyParser(new DataTree(), 'the SNAP stream from the leader', log);
  }

  get nodeCount(): number {
    return this.body.nodeCount;
  }

  push(chunk: Buffer): void {
    if (this.done) this.tail = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    else this.body.push(chunk);
  }

  read(): DataTree | null {
    if (this.done) return this.body.tree;
    if (this.body.parse() !== 'done') return null;
    const rest = this.body.remainder();
    const r = new JuteReader(rest, 0, rest.length, Number.MAX_SAFE_INTEGER);
    let sig: string;
    try {
      sig = r.readStr();
    } catch (e) {
      if (e instanceof JuteError && e.message.startsWith('record truncated')) return null;
      throw e;
    }
    if (sig !== SNAP_SIGNATURE) throw new Error(`Missing signature in the SNAP stream from the leader (got ${JSON.stringify(sig.slice(0, 40))})`);
    this.done = true;
    this.tail = rest.subarray(r.offset);
    this.body.tree.lastProcessedZxid = this.zxid;
    return this.body.tree;
  }

  /** the bytes after the stream (once `read()` returned the tree) */
  remainder(): Buffer {
    return this.tail;
  }
}

/** Parse a complete SNAP stream from `buf` at `offset`: the tree and the offset after it, or null if incomplete. */
export function parseSnapStream(buf: Buffer, offset: number, zxid: number): { tree: DataTree; end: number } | null {
  const reader = new SnapStreamReader(zxid);
  reader.push(buf.subarray(offset));
  const tree = reader.read();
  if (!tree) return null;
  return { tree, end: buf.length - reader.remainder().length };
}
