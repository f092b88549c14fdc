// Memberships for the simulator (sim.ts): what a reconfig txn carries, in a compact text form, and
// the random membership changes a simulated leader proposes — add a server (as a participant or an
// observer), remove one (the leader too), turn a participant into an observer or back.
//
// A reconfig txn has the layout the cores recognise (payloads.ts reconfigData): a TxnHeader whose
// type is reconfig (16), then a SetDataTxn of /zookeeper/config with the membership text.
import { JuteWriter } from '../../jute/archive';
import { majorityVerifier, QuorumVerifier } from '../verifier';

export interface SimMembership {
  version: number;
  voters: number[];
  observers: number[];
  verifier: QuorumVerifier;
}

export function simMembership(version: number, voters: number[], observers: number[], verifier?: QuorumVerifier): SimMembership {
  const v = [...voters].sort((a, b) => a - b);
  const o = [...observers].sort((a, b) => a - b);
  return { version, voters: v, observers: o, verifier: verifier ?? majorityVerifier(v) };
}

export function membershipTextOf(m: SimMembership): string {
  return `p=${m.voters.join(',')};o=${m.observers.join(',')};v=${m.version.toString(16)}`;
}

export function parseSimMembership(text: string): SimMembership {
  const f = new Map(text.split(';').map((kv) => kv.split('=') as [string, string]));
  const ids = (s: string | undefined): number[] => (s ? s.split(',').filter((x) => x !== '').map(Number) : []);
  return simMembership(parseInt(f.get('v') ?? '0', 16), ids(f.get('p')), ids(f.get('o')));
}

/** A reconfig txn at `zxid` setting the membership to `m` (whose version is `zxid`). */
export function reconfigTxn(zxid: number, m: SimMembership): Buffer {
  const w = new JuteWriter(128);
  w.writeLong(0); // clientId
  w.writeInt(0); // cxid
  w.writeLong(zxid);
  w.writeLong(0); // time
  w.writeInt(16); // reconfig
  w.writeString('/zookeeper/config');
  w.writeBuffer(Buffer.from(membershipTextOf(m), 'utf8'));
  w.writeInt(-1);
  return Buffer.from(w.finish());
}

/**
 * A random change of `m` over servers 1..total, versioned `zxid`; null when the pick leaves no
 * valid membership (fewer than two voters).
 */
export function randomChange(m: SimMembership, total: number, zxid: number, int: (n: number) => number): SimMembership | null {
  const voters = new Set(m.voters);
  const observers = new Set(m.observers);
  // one server at a time (incremental reconfig), or up to three at once (bulk `newMembers`), where
  // the old and the new majorities need not overlap
  const changes = int(3) === 0 ? 2 + int(2) : 1;
  for (let k = 0; k < changes; k++) change(voters, observers, 1 + int(total), int(3));
  if (voters.size < 2) return null;
  const next = simMembership(zxid, [...voters], [...observers]);
  if (membershipTextOf({ ...next, version: 0 }) === membershipTextOf({ ...m, version: 0 })) return null;
  return next;
}

function change(voters: Set<number>, observers: Set<number>, id: number, kind: number): void {
  switch (kind) {
    case 0: // add, or move between the roles
      if (voters.has(id)) {
        voters.delete(id);
        observers.add(id);
      } else {
        observers.delete(id);
        voters.add(id);
      }
      break;
    case 1: // remove
      voters.delete(id);
      observers.delete(id);
      break;
    default: // add as an observer
      if (!voters.has(id)) observers.add(id);
  }
}
