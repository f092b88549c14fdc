// What a Zab core hands its caller (etcd-raft's `Ready`), and the timing every core takes.
//
// THE CONTRACT. After every call into a core (step, tick, persisted, propose, …) the caller takes
// the Ready (`takeReady()`) and carries it out completely, in this order, before calling the core
// again:
//   1. `truncate` (learner): durably cut the txn log after that zxid and rebuild the DataTree from
//      what remains. `snapshot.receive` (learner): install the snapshot stream that followed SNAP
//      as the DataTree, write it durably as a snapshot and drop the old txn log (durably).
//   2. `writeEpoch`: write acceptedEpoch and/or currentEpoch durably (tmp + fsync + rename).
//   3. `logAppend`: append to the txn log in order. Need not be durable yet: report durability
//      later with `persisted(zxid)` (group commit is fine). A crash may lose any non-persisted suffix.
//   4. `commit`: apply to the DataTree in this order.
//   5. `send`: write the packets, per destination in order. A send entry with `snapshot` set is a
//      SNAP: write the serialized DataTree (which after step 4 is at `packet.zxid`) right after it.
//   6. `close`, then the rest (`requests`, `expired`, `revalidated`, `syncs`, `stateChange`,
//      `serving`) in any order after 5.
// src/quorum/zab/executor.ts carries a Ready out in exactly this order, for the server and the
// simulator alike.
// So everything in `writeEpoch` and `truncate`/`snapshot` is durable before any packet of the same
// Ready leaves; nothing in `send` ever depends on a `logAppend` of the same Ready (the cores only
// produce ACKs and the NEWLEADER ACK from `persisted`).
import { Id } from '../../jute/records';
import { QuorumPacket } from './packets';
import { ForwardedRequest, RevalidateReply, SessionTouch } from './payloads';

/** A txn as Zab sees it: TxnHeader + body (+ digest), opaque. */
export interface ZabTxn {
  zxid: number;
  data: Buffer;
}

export type ZabState = 'DISCOVERY' | 'SYNCHRONIZATION' | 'BROADCAST' | 'LOOKING';

export interface Send {
  to: number;
  packet: QuorumPacket;
  /** SNAP only: follow the packet with the snapshot stream of the DataTree at packet.zxid */
  snapshot?: true;
}

export interface Ready {
  send: Send[];
  logAppend: ZabTxn[];
  commit: ZabTxn[];
  writeEpoch: { accepted?: number; current?: number };
  /** learner (TRUNC): keep the txn log up to and including this zxid */
  truncate?: number;
  /** learner (SNAP): install the snapshot stream that followed SNAP, at this zxid */
  snapshot?: { receive: number };
  /**
   * a membership comes into force (a reconfig committed, or a learner's NEWLEADER carried a newer
   * one): `config` is its text; `leader` the designated leader (null: none was designated)
   */
  activate?: { config: Buffer; leader: number | null };
  /**
   * a reconfig was proposed (leader) or logged (learner), not yet in force: its membership text
   * (QuorumPeer.setLastSeenQuorumVerifier; kept durably beside the config file)
   */
  seen?: Buffer;
  stateChange?: ZabState;
  /** start (true) or stop (false) serving clients */
  serving?: boolean;
  /** why the core went LOOKING, or rejected a peer */
  reason?: string;
  /** the peer broke the protocol (unexpected packet): the caller should log it loudly */
  protocolError?: string;
  /** leader: close these learners' connections */
  close: number[];
  /** leader: forwarded client writes, to run through the request pipeline */
  requests: { from: number; request: ForwardedRequest; authinfo: Id[] }[];
  /** leader: sessions past their deadline; close each with a closeSession txn */
  expired: bigint[];
  /** leader: REVALIDATE questions the core answered (for metrics and logs) */
  revalidations: { from: number; session: SessionTouch; valid: boolean }[];
  /** learner: REVALIDATE answers from the leader */
  revalidated: RevalidateReply[];
  /** learner: SYNC packets received (release that many pending client syncs, oldest first) */
  syncs: number;
}

export function emptyReady(): Ready {
  return { send: [], logAppend: [], commit: [], writeEpoch: {}, close: [], requests: [], expired: [], revalidations: [], revalidated: [], syncs: 0 };
}

export function isEmptyReady(r: Ready): boolean {
  return (
    r.send.length === 0 &&
    r.logAppend.length === 0 &&
    r.commit.length === 0 &&
    r.writeEpoch.accepted === undefined &&
    r.writeEpoch.current === undefined &&
    r.truncate === undefined &&
    r.snapshot === undefined &&
    r.activate === undefined &&
    r.seen === undefined &&
    r.stateChange === undefined &&
    r.serving === undefined &&
    r.reason === undefined &&
    r.protocolError === undefined &&
    r.close.length === 0 &&
    r.requests.length === 0 &&
    r.expired.length === 0 &&
    r.revalidations.length === 0 &&
    r.revalidated.length === 0 &&
    r.syncs === 0
  );
}

/** zoo.cfg timing: tickTime in ms, initLimit and syncLimit in ticks. `now` is always caller time in ms. */
export interface ZabTiming {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
}
