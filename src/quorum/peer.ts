// QuorumPeer: the process-level loop of an ensemble member. LOOKING (FastLeaderElection) →
// LEADING (leading.ts) / FOLLOWING or OBSERVING (following.ts) → back to LOOKING when that ends.
// The database (zkdb.ts) survives a role change; see there for when it is reloaded from disk.
import { setDigestEnabled } from '../data/digest';
import { componentLogger, Logger } from '../util/log';
import { ServerConfig } from '../config/types';
import { FourLetterContext } from '../server/fourlw';
import { ClientListener } from '../server/net';
import { ServerSettings, serverSettings, ZooKeeperServer } from '../server/zkserver';
import { ReadOnlyZooKeeperServer } from '../server/readonlyzk';
import { BufferStats, serverMetrics } from '../util/metrics';
import { DataTree } from '../data/datatree';
import { ElectionService } from './election';
import { connectToLeader, LearnerRole, leaderConnectDeadline } from './following';
import { LeaderRole } from './leading';
import { PeerMode, RoleContext } from './role';
import { ZKDatabase } from './zkdb';
import { applyMembership, Membership, parseMembership, textOf } from '../config/membership';
import { backupStaticConfig, readNextMembership, writeMembershipFiles, writeNextMembership } from '../config/dynamic';
import { monotonicNow, msSince } from '../util/clock';

export type { PeerMode } from './role';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class QuorumPeer implements RoleContext {
  mode: PeerMode = 'looking';
  /** when this peer last stopped serving in BROADCAST (0: serving, or never started) */
  private unavailableSince = 0;
  zk: ZooKeeperServer | null = null;
  private stopped = false;
  private election!: ElectionService;
  listener!: ClientListener;
  readonly db: ZKDatabase;
  readonly myid: number;
  private role: LeaderRole | LearnerRole | null = null;
  /** the leader this peer follows or is (-1 while LOOKING) */
  private currentLeader = -1;
  /** this class's own lines; `logger` (the roles' and servers' root) names no component */
  private readonly log: Logger;

  constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    readonly ctx: FourLetterContext,
  ) {
    setDigestEnabled(config.digestEnabled);
    this.log = componentLogger(logger, 'QuorumPeer');
    this.db = new ZKDatabase(config, componentLogger(logger, 'ZKDatabase'));
    this.myid = config.myid!;
  }

  /** leader only (mntr): learners connected, followers and observers in sync */
  get leaderStats(): { learners: number; syncedFollowers: number; syncedObservers: number; pendingSyncs: number; since: number } {
    const role = this.role instanceof LeaderRole ? this.role : null;
    const ls = role?.core.learners() ?? [];
    return {
      learners: ls.length,
      syncedFollowers: ls.filter((l) => l.upToDate && !l.observer).length,
      syncedObservers: ls.filter((l) => l.upToDate && l.observer).length,
      pendingSyncs: 0,
      since: role?.since ?? 0,
    };
  }

  /** the leader's proposal sizes (stat's "Proposal sizes", mntr zk_*_proposal_size); null unless leading */
  get proposalStats(): BufferStats | null {
    return this.role instanceof LeaderRole ? this.role.proposalSizes : null;
  }

  /**
   * mntr zk_peer_state (QuorumPeer.getDetailedPeerState): the peer state, then the Zab phase unless
   * electing, e.g. "following - broadcast". mntr only answers while serving, so in practice the
   * phase is broadcast.
   */
  get peerState(): string {
    const state = { leader: 'leading', follower: 'following', observer: 'observing', looking: 'looking', 'read-only': 'looking' }[this.mode];
    const phase = this.zabPhase;
    return phase === 'ELECTION' ? state : `${state} - ${phase.toLowerCase()}`;
  }

  /** the Zab phase of the current role (DISCOVERY, SYNCHRONIZATION, BROADCAST), or ELECTION while LOOKING */
  get zabPhase(): string {
    const st = this.role?.core.state;
    return !st || st === 'LOOKING' ? 'ELECTION' : st;
  }

  /** the leader's server id as this peer sees it (-1 while LOOKING) */
  get leaderId(): number {
    return this.currentLeader;
  }

  /** voting members (mntr zk_quorum_size: QuorumPeer.getQuorumSize) */
  get quorumSize(): number {
    return this.voters.length;
  }

  get voters(): number[] {
    return [...this.config.servers.values()].filter((s) => s.type === 'participant').map((s) => s.id);
  }
  get observers(): number[] {
    return [...this.config.servers.values()].filter((s) => s.type === 'observer').map((s) => s.id);
  }
  get stopping(): boolean {
    return this.stopped;
  }

  settings(): ServerSettings {
    return serverSettings(this.config, this.myid);
  }

  decided(state: 'LEADING' | 'FOLLOWING' | 'OBSERVING', leader: number): void {
    this.currentLeader = leader;
    this.election.setDecided(state, leader);
  }

  updateElectionVote(epoch: number): void {
    this.election.updateElectionVote(epoch);
  }

  serving(mode: PeerMode, zk: ZooKeeperServer | null): void {
    // unavailable_time: from entering LOOKING to serving again in BROADCAST (QuorumPeer.setZabState)
    if (mode === 'looking' || mode === 'read-only') {
      if (this.unavailableSince === 0) this.unavailableSince = monotonicNow();
    } else if (zk && this.unavailableSince !== 0) {
      const ms = msSince(this.unavailableSince);
      serverMetrics.unavailable_time.add(ms);
      if (mode === 'leader') serverMetrics.leader_unavailable_time.add(ms);
      this.unavailableSince = 0;
    }
    this.mode = mode;
    this.zk = zk;
    this.ctx.zk = zk;
  }

  lastSeenMembership: Membership | null = null;
  /** the leader a committed reconfig designated, for the next role (no election) */
  private designatedLeader: number | null = null;

  designated(leader: number): void {
    this.designatedLeader = leader;
  }

  /** A membership text from a peer, or null (logged) when it does not parse. */
  private parseMembershipOrLog(config: Buffer, what: string): Membership | null {
    try {
      return parseMembership(config.toString('utf8'));
    } catch (e) {
      this.log.error({ err: String(e) }, `${what} could not be parsed`);
      return null;
    }
  }

  seeMembership(config: Buffer): void {
    const m = this.parseMembershipOrLog(config, 'a proposed membership');
    if (!m) return;
    if (m.version <= Math.max(this.config.configVersion, this.lastSeenMembership?.version ?? 0)) return;
    this.lastSeenMembership = m;
    try {
      writeNextMembership(this.config.file, textOf(m));
    } catch (e) {
      this.log.error({ err: String(e) }, 'could not write the last seen membership');
    }
    this.election.setLastSeen(m);
    this.log.info({ version: m.version.toString(16) }, 'a reconfig is pending');
  }

  activateMembership(config: Buffer): boolean {
    const m = this.parseMembershipOrLog(config, 'a new membership (the one in force stays)');
    if (!m) return false;
    if (m.version <= this.config.configVersion) return false;
    const before = this.config.configVersion;
    applyMembership(this.config, m);
    this.db.refreshConfigNode();
    if (this.lastSeenMembership && this.lastSeenMembership.version <= m.version) {
      this.lastSeenMembership = null;
      this.election.setLastSeen(null);
    }
    const me = m.servers.get(this.myid);
    // QuorumPeer.needEraseClientInfoFromStaticConfig: this server's line carries its client address
    const eraseClient = me?.clientPort !== undefined;
    try {
      const file = writeMembershipFiles(this.config.file, textOf(m), m.version, eraseClient);
      this.log.info({ version: m.version.toString(16), previous: before.toString(16), file }, 'new membership in force');
    } catch (e) {
      this.log.error({ err: String(e), version: m.version.toString(16) }, 'the new membership is in force but its dynamic config file could not be written');
    }
    this.election.reconfigure();
    return true;
  }

  /** The membership text ZooKeeper keeps in /zookeeper/config (QuorumMaj.toString). */
  configText(): string {
    return this.db.configText();
  }

  /** ZKDatabase.initConfigInZKDatabase: version -1, mzxid = the config version. */
  initConfigNode(tree: DataTree): void {
    this.db.initConfigNode(tree);
  }

  async start(): Promise<void> {
    // QuorumPeerConfig.backupOldConfig: the static file as it was, before a reconfig rewrites it
    if (this.config.reconfigEnabled && !this.config.raw.has('dynamicConfigFile')) {
      try {
        backupStaticConfig(this.config.file);
      } catch (e) {
        this.log.warn({ err: String(e) }, `could not back up ${this.config.file}`);
      }
    }
    this.election = new ElectionService(this.config, componentLogger(this.logger, 'FastLeaderElection'));
    // a reconfig logged before a restart and never seen committed (zoo.cfg.dynamic.next)
    const next = this.config.reconfigEnabled ? readNextMembership(this.config.file) : null;
    if (next) {
      try {
        const m = parseMembership(next);
        if (m.version > this.config.configVersion) {
          this.lastSeenMembership = m;
          this.election.setLastSeen(m);
        }
      } catch (e) {
        this.log.warn({ err: String(e) }, `ignoring ${this.config.file}.dynamic.next`);
      }
    }
    this.election.onMembership = (text) => this.activateMembership(Buffer.from(text, 'utf8'));
    await this.election.start();
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.role?.end();
    this.zk?.shutdown();
    await this.election.stop();
  }

  /**
   * readonlymode.enabled: still LOOKING after max(2 s, tickTime), this peer has no quorum; it serves
   * read-only clients from its tree until the election ends (QuorumPeer's roZkMgr thread).
   * Returns the function that stops it (or its timer).
   */
  private readOnlyLater(tree: DataTree): () => void {
    let ro: ReadOnlyZooKeeperServer | null = null;
    const t = setTimeout(() => {
      if (this.stopped || this.mode !== 'looking') return;
      ro = new ReadOnlyZooKeeperServer(tree, this.settings(), componentLogger(this.logger, 'ReadOnlyZooKeeperServer'));
      ro.startTimers();
      this.serving('read-only', ro);
      this.log.info({}, 'Read-only server started');
    }, Math.max(2000, this.config.tickTime));
    return () => {
      clearTimeout(t);
      if (!ro) return;
      ro.shutdown();
      if (this.zk === ro) this.serving('looking', null);
      ro = null;
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.serving('looking', null);
      this.currentLeader = -1;
      try {
        const tree = await this.db.load();
        const epochs = this.db.epochs(tree.lastProcessedZxid);
        const t0 = monotonicNow();
        serverMetrics.looking_count.add(1);
        const ro = this.config.readOnlyModeEnabled ? this.readOnlyLater(tree) : null;
        let d;
        const designated = this.designatedLeader;
        this.designatedLeader = null;
        try {
          d = designated !== null ? this.election.designate(designated, tree.lastProcessedZxid, epochs.current) : null;
          if (d) this.log.info({ leader: d.leader, state: d.state }, 'following the leader the reconfig designated, without an election');
          d ??= await this.election.lookForLeader(tree.lastProcessedZxid, epochs.current);
        } finally {
          ro?.();
        }
        if (this.stopped) return;
        const ms = msSince(t0);
        serverMetrics.election_time.add(ms);
        this.log.info({ leader: d.leader, state: d.state, ms }, 'election finished');
        if (d.state === 'LEADING') {
          const role = new LeaderRole(this, tree, epochs.accepted, epochs.current);
          this.role = role;
          await role.run();
        } else {
          const deadline = leaderConnectDeadline(this);
          for (;;) {
            const sock = await connectToLeader(this, d.leader, deadline);
            const role = new LearnerRole(this, d, tree, sock, epochs.accepted, epochs.current);
            this.role = role;
            await role.run();
            if (!role.unanswered || this.stopped || monotonicNow() >= deadline) break;
            this.log.info({ leader: d.leader }, 'the connection to the leader closed before the leader sent anything; connecting again');
            this.role = null;
            await sleep(50);
          }
        }
        this.db.fastForward();
      } catch (e) {
        this.log.warn({ err: String((e as Error).stack ?? e) }, 'peer role ended with an error; reloading the database');
        this.db.invalidate();
      }
      this.role?.end();
      this.role = null;
      this.zk?.shutdown();
      this.serving('looking', null);
      if (!this.stopped) await sleep(10);
    }
  }
}
