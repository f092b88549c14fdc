// The leader's side of a SNAP sync: after the SNAP packet, the DataTree at the packet's zxid as a
// snapshot stream (snapstream.ts), written to the learner's connection a chunk at a time as it is
// encoded, so the learner parses the first znodes while the leader is still encoding the rest.
//
// ZooKeeper's LearnerHandler writes a fuzzy snapshot (the tree keeps changing under it) straight to
// the socket. Ours is exact instead: while a stream is being encoded, the txns Zab commits are held
// (`commit` records them, `applyUpTo` is not called) and applied once the last stream is encoded.
// The leader's event loop keeps running between chunks — reads, pings, proposals and acks go on —
// and only the application of commits waits, for as long as the encoding takes (~0.4 s per 1M
// znodes); before, the whole stream was encoded in one synchronous call that stopped the leader
// for as long. An exact stream keeps the learner's tree digest checks meaningful from its first txn.
//
// A SNAP planned while the tree is held at another zxid waits: once the streams in progress are
// encoded, the tree is brought to its zxid (the commits held up to it are applied) and held there
// for it.
import { JuteWriter } from '../jute/archive';
import { DataTree } from '../data/datatree';
import { encodeTreeBody } from '../persistence/treebody';
import { SNAP_SIGNATURE, snapStreamSizeEstimate } from './snapstream';

/** Where a stream goes: a learner connection's PacketBatcher. */
export interface SnapOut {
  beginStream(): void;
  streamChunk(b: Buffer, taken?: () => void): void;
  endStream(): void;
}

/** A stream's progress, for the leader's progress lines. */
export interface SnapSend {
  /** bytes the socket has taken */
  taken: number;
  /** bytes encoded so far */
  encoded: number;
  /** every byte is encoded (and handed to the connection) */
  complete: boolean;
}

/**
 * Znodes encoded per turn of the event loop: ~0.9 MB and ~2 ms at ~190 bytes a znode, short
 * enough for the leader's other work between chunks.
 */
export const NODES_PER_CHUNK = 5000;

/** What the leader's SnapSender is built with (tests of a whole ensemble make streams of many small chunks). */
export const snapSendTuning = { nodesPerChunk: NODES_PER_CHUNK };

interface Stream {
  zxid: number;
  out: SnapOut;
  closed: () => boolean;
  state: SnapSend;
}

export class SnapSender {
  /** streams being encoded now, all at `heldAt` */
  private encoding = 0;
  private heldAt = -1;
  /** the highest zxid committed while the tree is held (-1: none) */
  private heldUpTo = -1;
  /** SNAPs planned at another zxid than the one the tree is held at, in order */
  private readonly waiting: Stream[] = [];
  private stopped = false;

  constructor(
    private readonly tree: DataTree,
    /** apply the committed txns up to `zxid` to the tree (the leader's commitUpTo) */
    private readonly applyUpTo: (zxid: number) => void,
    /** znodes per chunk (default: snapSendTuning's, when each stream starts) */
    private readonly nodesPerChunk?: number,
  ) {}

  /** true while commits are held for a stream */
  get holding(): boolean {
    return this.encoding > 0;
  }

  /** Zab committed everything up to `zxid`: applied now, or once the streams being encoded are done. */
  commit(zxid: number): void {
    if (this.encoding === 0 || this.stopped) this.applyUpTo(zxid);
    else if (zxid > this.heldUpTo) this.heldUpTo = zxid;
  }

  /**
   * Stream the tree at `zxid` — the last commit, which the SNAP packet just sent names — to `out`.
   * `closed()` says the learner's connection is gone (the stream stops).
   */
  send(zxid: number, out: SnapOut, closed: () => boolean): SnapSend {
    const s: Stream = { zxid, out, closed, state: { taken: 0, encoded: 0, complete: false } };
    out.beginStream();
    if (this.encoding > 0 && zxid !== this.heldAt) this.waiting.push(s);
    else this.start(s);
    return s.state;
  }

  /** The leader stops: streams end where they are, and the commits held are applied. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.waiting.length = 0;
    this.release();
  }

  private start(s: Stream): void {
    this.encoding++;
    this.heldAt = s.zxid;
    // one buffer at the stream's estimated size, sent as views of it: no allocation per chunk
    // (see serializeSnapStream for what growing Buffer memory costs at scale)
    const sink = { w: new JuteWriter(snapStreamSizeEstimate(this.tree)) };
    const body = encodeTreeBody(this.tree, sink, { nodesPerPause: this.nodesPerChunk ?? snapSendTuning.nodesPerChunk });
    let sent = 0;
    const push = (): void => {
      const all = sink.w.finish();
      const end = all.length;
      s.out.streamChunk(all.subarray(sent), () => (s.state.taken = end));
      sent = end;
      s.state.encoded = end;
    };
    const step = (): void => {
      if (this.stopped || s.closed()) return this.finish(s);
      if (!body.next().done) {
        push();
        setImmediate(step);
        return;
      }
      sink.w.writeString(SNAP_SIGNATURE);
      push();
      s.state.complete = true;
      this.finish(s);
    };
    step();
  }

  private finish(s: Stream): void {
    s.out.endStream();
    this.encoding--;
    if (this.encoding === 0) this.release();
  }

  /** No stream is being encoded: start the next waiting ones at their zxid, or apply every commit held. */
  private release(): void {
    while (this.encoding === 0 && !this.stopped && this.waiting.length > 0) {
      const zxid = this.waiting[0].zxid;
      this.applyUpTo(zxid);
      while (this.waiting.length > 0 && this.waiting[0].zxid === zxid) this.start(this.waiting.shift()!);
    }
    if (this.encoding > 0 && !this.stopped) return;
    const z = this.heldUpTo;
    this.heldUpTo = -1;
    if (z >= 0) this.applyUpTo(z);
  }
}
