// The one place that carries out a Zab core's Ready (etcd-raft's `Ready` loop), used by the
// QuorumPeer (src/quorum/leading.ts, src/quorum/following.ts) and by the simulator (sim.ts) alike,
// so the simulator's seeds exercise the order the server really follows:
//
//   1. durable state first: TRUNC's log cut, SNAP's snapshot, the epoch files, then the txn-log
//      appends (durability of appends is reported later through `persisted`: group commit);
//   2. apply the committed txns to the DataTree, in zxid order, then bring a new membership into
//      force (a committed reconfig, or the one a learner's NEWLEADER carried);
//   3. send the packets, per destination in order (a SNAP send is followed by the snapshot stream);
//   4. close the learners the core dropped;
//   5. the rest, for the request pipeline and the session tracker: forwarded requests, expired
//      sessions, REVALIDATE answers, SYNCs, the serving flag and the state change.
//
// A host carries out each operation; the executor owns the order and the loop. Calls into the core
// made while a Ready is being carried out (a forwarded write proposed, a SYNC answered) are not
// carried out re-entrantly: the loop takes the core's next Ready once the current one is done.
import { QuorumPacket } from './packets';
import { ForwardedRequest, RevalidateReply } from './payloads';
import { isEmptyReady, Ready, ZabTxn, ZabState } from './ready';
import { Id } from '../../jute/records';

/** What a Zab core offers its executor. */
export interface ZabCore {
  readonly state: ZabState;
  takeReady(): Ready;
}

export interface ZabHost {
  /** seen before anything of `r` is carried out (the simulator checks invariants here) */
  begin?(r: Ready): void;
  /**
   * Called before each operation with its index and the count: return false to stop carrying out
   * this Ready (the role ended, or the simulator crashes the node part-way).
   */
  proceed?(op: number, ops: number): boolean;
  /** learner TRUNC: durably cut the txn log after `zxid` and rebuild the DataTree from the rest */
  truncate(zxid: number): void;
  /** learner SNAP: the snapshot stream that followed SNAP, at `zxid`, becomes the durable DataTree */
  installSnapshot(zxid: number): void;
  writeAcceptedEpoch(epoch: number): void;
  writeCurrentEpoch(epoch: number): void;
  /** append to the txn log; report durability to the core with `persisted` (group commit) */
  append(t: ZabTxn): void;
  /** apply a committed txn to the DataTree */
  apply(t: ZabTxn): void;
  /**
   * a membership comes into force (after the txns of the same Ready are applied, before any packet
   * leaves): keep it durably, reconnect, and end the role if this server's role or leader changed
   */
  activate?(config: Buffer, leader: number | null): void;
  /** a reconfig proposed or logged, not yet in force: keep its membership as the last seen one */
  seen?(config: Buffer): void;
  /** write a packet to `to`; `snapshot`: follow it with the DataTree's snapshot stream */
  send(to: number, packet: QuorumPacket, snapshot: boolean): void;
  /** leader: close this learner's connection */
  close(sid: number): void;
  /** leader: client writes a learner forwarded, for the request pipeline */
  forwarded?(requests: { from: number; request: ForwardedRequest; authinfo: Id[] }[]): void;
  /** leader: sessions past their deadline, to close with closeSession txns */
  expire?(sessionIds: bigint[]): void;
  /** leader: REVALIDATE questions the core answered */
  revalidations?(rs: Ready['revalidations']): void;
  /** learner: the leader's REVALIDATE answers */
  revalidated?(replies: RevalidateReply[]): void;
  /** learner: SYNC packets received */
  synced?(count: number): void;
  /** start or stop serving clients */
  serving?(on: boolean): void;
  /** the core changed state (LOOKING: the role is over; `reason` says why) */
  stateChanged?(state: ZabState, reason: string | undefined): void;
  /** the other side broke the protocol */
  protocolError?(message: string): void;
  /** a learner was dropped or a peer rejected, without a state change */
  dropped?(reason: string): void;
}

/** Carry out one Ready in the contract's order. Returns false if the host stopped it part-way. */
export function carryOut(r: Ready, host: ZabHost): boolean {
  host.begin?.(r);
  const ops: (() => void)[] = [];
  if (r.truncate !== undefined) ops.push(() => host.truncate(r.truncate!));
  if (r.snapshot) ops.push(() => host.installSnapshot(r.snapshot!.receive));
  if (r.writeEpoch.accepted !== undefined) ops.push(() => host.writeAcceptedEpoch(r.writeEpoch.accepted!));
  if (r.writeEpoch.current !== undefined) ops.push(() => host.writeCurrentEpoch(r.writeEpoch.current!));
  if (r.seen) ops.push(() => host.seen?.(r.seen!));
  for (const t of r.logAppend) ops.push(() => host.append(t));
  if (r.commit.length) ops.push(() => r.commit.forEach((t) => host.apply(t)));
  if (r.activate) ops.push(() => host.activate?.(r.activate!.config, r.activate!.leader));
  for (const s of r.send) ops.push(() => host.send(s.to, s.packet, s.snapshot === true));
  const proceed = host.proceed;
  for (let i = 0; i < ops.length; i++) {
    if (proceed && !proceed.call(host, i, ops.length)) return false;
    ops[i]();
  }
  if (proceed && !proceed.call(host, ops.length, ops.length)) return false;
  for (const sid of r.close) host.close(sid);
  if (r.protocolError) host.protocolError?.(r.protocolError);
  if (r.requests.length) host.forwarded?.(r.requests);
  if (r.expired.length) host.expire?.(r.expired);
  if (r.revalidations.length) host.revalidations?.(r.revalidations);
  if (r.revalidated.length) host.revalidated?.(r.revalidated);
  if (r.syncs) host.synced?.(r.syncs);
  if (r.serving !== undefined) host.serving?.(r.serving);
  if (r.stateChange) host.stateChanged?.(r.stateChange, r.reason);
  else if (r.reason) host.dropped?.(r.reason);
  return true;
}

/**
 * Drives one core: `run()` after every call into it. Runs Readys until the core has nothing more
 * to say; a `run()` from inside a host operation only marks that the loop must go on.
 */
export class ReadyLoop {
  private running = false;
  private stopped = false;

  constructor(
    private readonly core: ZabCore,
    private readonly host: ZabHost,
  ) {}

  /** No Ready is carried out any more (the role ended). */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  run(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (;;) {
        const r = this.core.takeReady();
        if (isEmptyReady(r)) return;
        if (!carryOut(r, this.host)) {
          this.stopped = true;
          return;
        }
        if (this.stopped) return;
      }
    } finally {
      this.running = false;
    }
  }
}
