// What a role (leading.ts, following.ts) needs from its QuorumPeer: the configuration, the
// database, and a way to say that it serves clients (or no longer does).
import type { Logger } from '../util/log';
import { ServerConfig } from '../config/types';
import { ServerSettings, ZooKeeperServer } from '../server/zkserver';
import { ZKDatabase } from './zkdb';
import { Membership } from '../config/membership';

export type PeerMode = 'leader' | 'follower' | 'observer' | 'looking' | 'read-only';

export interface RoleContext {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly myid: number;
  readonly db: ZKDatabase;
  /** participants (voting members) */
  readonly voters: number[];
  readonly observers: number[];
  settings(): ServerSettings;
  /** the election's result is in effect (FLE answers later notifications with it) */
  decided(state: 'LEADING' | 'FOLLOWING' | 'OBSERVING', leader: number): void;
  /**
   * The role is established in `epoch`: from now on the election answers with that peerEpoch, so
   * every member reports the same vote to a peer that starts up (3.8's updateElectionVote,
   * ZOOKEEPER-1732; a Java peer counts out-of-election votes only when id and peerEpoch agree).
   */
  updateElectionVote(epoch: number): void;
  /** the role serves clients through `zk` (null: no longer) */
  serving(mode: PeerMode, zk: ZooKeeperServer | null): void;
  /**
   * A membership comes into force (its text, `version=` included): if it is newer than the config's,
   * it becomes the config's, is written to the dynamic config file and reaches the election.
   * Returns true if it did.
   */
  activateMembership(config: Buffer): boolean;
  /** A reconfig was proposed or logged: its membership is the last seen one until it is in force. */
  seeMembership(config: Buffer): void;
  /** the last seen membership, if newer than the one in force */
  readonly lastSeenMembership: Membership | null;
  /** The role ends because a reconfig designated `leader`: the next role follows it (or leads) without an election. */
  designated(leader: number): void;
  /** the peer is shutting down */
  readonly stopping: boolean;
}
