// The leader's choice of DIFF / TRUNC / SNAP for one learner (wire-quorum.md §7.1,
// LearnerHandler.syncFollower + queueCommittedProposals), as a pure function of the committed-log
// window, the leader's lastProcessedZxid and the learner's lastLoggedZxid (from ACKEPOCH).
import { counterOf, epochOf } from './packets';
import { ZabTxn } from './ready';

export interface SyncPlan {
  kind: 'DIFF' | 'TRUNC' | 'SNAP';
  /** the op packet's zxid: DIFF → maxCommittedLog (or peerLastZxid), TRUNC → keep-up-to, SNAP → lastProcessedZxid */
  zxid: number;
  /** committed txns to send as PROPOSAL + COMMIT pairs after the op packet */
  txns: ZabTxn[];
  /** the last zxid the learner will have from the sync packets (startForwarding's lastQueued) */
  lastQueued: number;
}

/**
 * @param window the in-memory committedLog (oldest first, contiguous, ends at lastProcessed when
 *   non-empty); an empty window stands for min = max = lastProcessed.
 */
export function chooseSync(window: readonly ZabTxn[], lastProcessed: number, peerLast: number, forceSnapshot = false): SyncPlan {
  const snap: SyncPlan = { kind: 'SNAP', zxid: lastProcessed, txns: [], lastQueued: lastProcessed };
  if (forceSnapshot) return snap;
  const minC = window.length ? window[0].zxid : lastProcessed;
  const maxC = window.length ? window[window.length - 1].zxid : lastProcessed;
  const peerOnEpochBoundary = counterOf(peerLast) === 0;
  if (peerLast === lastProcessed) return { kind: 'DIFF', zxid: peerLast, txns: [], lastQueued: peerLast };
  if (peerLast > maxC && !peerOnEpochBoundary) return { kind: 'TRUNC', zxid: maxC, txns: [], lastQueued: maxC };
  if (minC <= peerLast && peerLast <= maxC) return queueCommittedProposals(window, peerLast, maxC) ?? snap;
  // §7.1 step 5 (sync from the on-disk txn log below the window) is not implemented: SNAP
  return snap;
}

/** null = fall back to SNAP (a TRUNC across an epoch boundary, or no op packet decided). */
export function queueCommittedProposals(window: readonly ZabTxn[], peerLast: number, maxC: number): SyncPlan | null {
  const peerOnEpochBoundary = counterOf(peerLast) === 0;
  let op: { kind: 'DIFF' | 'TRUNC'; zxid: number } | null = null;
  let queued = peerLast;
  const txns: ZabTxn[] = [];
  for (const t of window) {
    if (t.zxid < peerLast) continue;
    if (!op) {
      if (t.zxid === peerLast) {
        op = { kind: 'DIFF', zxid: maxC };
        continue;
      }
      if (peerOnEpochBoundary) op = { kind: 'DIFF', zxid: maxC };
      else if (t.zxid > peerLast) {
        // The peer holds a txn the window lacks. Across an epoch boundary ZooKeeper cannot TRUNC
        // (LearnerHandler: "peer zxid is from different epoch"); within one epoch the window would
        // have to skip the peer's txn, a hole that a TRUNC(prev) + DIFF would copy into the
        // peer's log (ZOOKEEPER-4925). Either way: SNAP.
        return null;
      }
    }
    if (t.zxid <= queued) continue;
    // the learner gets every txn after the op packet's point, or a SNAP: a hole in the window must
    // never reach a learner's log (ZOOKEEPER-4925, where one propagated and lost data)
    const from = txns.length ? queued : op?.kind === 'TRUNC' ? op.zxid : peerLast;
    if (!follows(from, t.zxid)) return null;
    txns.push(t);
    queued = t.zxid;
  }
  if (!op && peerOnEpochBoundary) op = { kind: 'DIFF', zxid: maxC };
  if (!op) return null;
  return { kind: op.kind, zxid: op.zxid, txns, lastQueued: queued };
}

/** `b` is the txn right after `a` in a history: the next counter, or the first of a later epoch. */
export function follows(a: number, b: number): boolean {
  return b === a + 1 || (epochOf(b) > epochOf(a) && counterOf(b) === 1);
}
