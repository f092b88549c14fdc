// ElectionService: binds the FastLeaderElection core (src/quorum/fle) to the election port
// (src/quorum/cnx) and real time. lookForLeader() runs one election; afterwards the core keeps
// answering LOOKING peers with the decided vote, so late joiners learn the leader.
import type { Logger } from '../util/log';
import { QuorumServerSpec, ServerConfig } from '../config/types';
import { peerAuth } from './peerauth';
import { quorumConnect, quorumServer } from './transport';
import { ConnectFailure, QuorumCnxManager } from './cnx/manager';
import { FastLeaderElection } from './fle/fle';
import { QuorumVerifier, quorumVerifier } from './verifier';
import { Membership } from '../config/membership';
import { membershipText } from '../config/load';
import { decodeNotification, encodeNotification } from './fle/notification';
import { monotonicNow } from '../util/clock';

export interface ElectionDecision {
  state: 'LEADING' | 'FOLLOWING' | 'OBSERVING';
  leader: number;
}

export class ElectionService {
  private cnx: QuorumCnxManager;
  /** the election addresses the connection manager dials (kept up to date on reconfig) */
  private readonly peers = new Map<number, { host: string; port: number }>();
  private learnerType: 'participant' | 'observer';
  private lastSeen: QuorumVerifier | null = null;
  /** the zxid and epoch the current election started with (to restart it on a new membership) */
  private started: { zxid: number; epoch: number } | null = null;
  /**
   * A notification carried a newer membership (reconfigEnabled): the peer brings it into force
   * and returns true if it did (FastLeaderElection's WorkerReceiver → QuorumPeer.processReconfig)
   */
  onMembership: ((config: string) => boolean) | null = null;
  private fle: FastLeaderElection | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** peers whose election port could not be reached: the failure last logged, and when */
  private readonly unreachable = new Map<number, { code: string; at: number }>();
  private finalizeTimer: NodeJS.Timeout | null = null;
  private finalizeArmedFor = -1;
  private waiting: ((d: ElectionDecision) => void) | null = null;

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
  ) {
    const me = config.servers.get(config.myid!)!;
    this.learnerType = me.type;
    this.addPeers(config.servers.values());
    this.cnx = new QuorumCnxManager({
      myid: config.myid!,
      listenHost: config.quorumListenOnAllIPs ? '0.0.0.0' : me.host,
      listenPort: me.electionPort,
      peers: this.peers,
      auth: peerAuth(config, logger),
      transport: config.sslQuorum || config.portUnification
        ? {
            server: (onSocket) => quorumServer(config, logger, onSocket),
            connect: (host, port, onReady, onError) => quorumConnect(config, logger, host, port, onReady, onError),
          }
        : undefined,
    });
  }

  /** Dial these servers' election ports (the connection manager reads the map as it changes). */
  private addPeers(servers: Iterable<QuorumServerSpec>): void {
    for (const s of servers) this.peers.set(s.id, { host: s.host, port: s.electionPort });
  }

  private get voters(): number[] {
    return [...this.config.servers.values()].filter((s) => s.type === 'participant').map((s) => s.id);
  }

  async start(): Promise<void> {
    await this.cnx.listen();
    this.cnx.on('message', (sid: number, payload: Buffer) => {
      const n = decodeNotification(payload);
      if (!n || !this.fle) return;
      if (this.waiting && this.started && this.config.reconfigEnabled && n.config && configVersionOf(n.config) > this.config.configVersion && this.onMembership?.(n.config)) {
        // a peer that missed a reconfig learns it while LOOKING, and elects by it
        this.logger.info({ from: sid, version: this.config.configVersion.toString(16) }, 'restarting leader election with the membership a notification carried');
        this.out(this.fle.startElection(monotonicNow(), this.started.zxid, this.started.epoch));
        return;
      }
      this.out(this.fle.receive(sid, n, monotonicNow()));
      this.check();
    });
    // which peers are reachable: a quorum's vote is decided without finalizeWait once every other
    // voter has voted or is down (FastLeaderElection.nothingToWaitFor)
    this.cnx.on('down', (sid: number, why?: ConnectFailure) => {
      if (why) this.cannotConnect(sid, why);
      if (!this.fle) return;
      this.fle.peerDown(sid);
      this.check();
    });
    this.cnx.on('up', (sid: number) => {
      this.unreachable.delete(sid);
      this.fle?.peerUp(sid);
    });
    this.timer = setInterval(() => this.tick(), 50);
    this.timer.unref();
  }

  /**
   * QuorumCnxManager's "Cannot open channel to N at election address …", which operators look for
   * when an ensemble does not form (a peer down, a typo or a name DNS does not know yet, a
   * firewall). ZooKeeper logs it at every attempt, several a second while it looks for a leader;
   * here once per peer and kind of failure, again after a minute of the same, and again after the
   * peer was reached.
   */
  private cannotConnect(sid: number, why: ConnectFailure): void {
    const now = monotonicNow();
    const last = this.unreachable.get(sid);
    if (last && last.code === why.code && now - last.at < 60_000) return;
    this.unreachable.set(sid, { code: why.code, at: now });
    this.logger.warn({ sid, code: why.code }, `Cannot open channel to ${sid} at election address ${why.host}:${why.port} (${why.code})`);
  }

  private out(msgs: { to: number; msg: Parameters<typeof encodeNotification>[0] }[]): void {
    for (const m of msgs) this.cnx.send(m.to, encodeNotification(m.msg));
  }

  /**
   * A quorum agreed: decide at the end of finalizeWait to the millisecond, as FastLeaderElection's
   * recvqueue.poll(finalizeWait) does, rather than at the next 50 ms tick (up to 50 ms of every
   * failover).
   */
  private armFinalize(): void {
    const at = this.fle?.finalizeDeadline ?? -1;
    if (at < 0 || at === this.finalizeArmedFor) return;
    this.finalizeArmedFor = at;
    clearTimeout(this.finalizeTimer ?? undefined);
    this.finalizeTimer = setTimeout(() => {
      this.finalizeTimer = null;
      this.tick();
    }, Math.max(0, at - monotonicNow() + 1));
    this.finalizeTimer.unref();
  }

  private tick(): void {
    if (!this.fle) return;
    this.out(this.fle.tick(monotonicNow()));
    this.check();
  }

  /** After every step of the core: hand over a decision, or wait for the one a quorum agreed on. */
  private check(): void {
    const d = this.fle?.decision();
    if (d && this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ state: d.state, leader: d.leader });
    }
    this.armFinalize();
  }

  /** Run an election with this peer's last logged zxid and current epoch. */
  lookForLeader(lastLoggedZxid: number, currentEpoch: number): Promise<ElectionDecision> {
    // one core for the process: its logical clock keeps counting across elections
    this.fle ??= new FastLeaderElection({
      myid: this.config.myid!,
      voters: this.voters,
      isObserver: this.learnerType === 'observer',
      verifier: quorumVerifier(this.config),
      config: this.config.reconfigEnabled ? membershipText(this.config) : '',
    });
    this.fle.setLastSeen(this.lastSeen);
    this.started = { zxid: lastLoggedZxid, epoch: currentEpoch };
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.out(this.fle!.startElection(monotonicNow(), lastLoggedZxid, currentEpoch));
      this.check();
    });
  }

  /**
   * The config's membership changed (a reconfig came into force): dial the new members' election
   * ports, and count votes by the new membership (QuorumPeer.connectNewPeers, restartLeaderElection).
   */
  reconfigure(): void {
    this.peers.clear();
    this.addPeers(this.config.servers.values());
    // a server the reconfig removed keeps its learner type (QuorumPeer.updateLearnerType changes it
    // only for a member): a participant then follows without a vote
    const me = this.config.servers.get(this.config.myid!);
    if (me) this.learnerType = me.type;
    this.fle?.setMembership(this.voters, quorumVerifier(this.config), this.learnerType === 'observer', this.config.reconfigEnabled ? membershipText(this.config) : '');
  }

  /** Follow (or lead as) the leader a committed reconfig designated, without an election. */
  designate(leader: number, lastLoggedZxid: number, currentEpoch: number): ElectionDecision | null {
    if (!this.fle) return null;
    const d = this.fle.designate(leader, lastLoggedZxid, currentEpoch);
    return { state: d.state, leader: d.leader };
  }

  /** A reconfig is pending (or no longer, null): elect with a quorum of both memberships. */
  setLastSeen(m: Membership | null): void {
    this.lastSeen = m ? quorumVerifier(m) : null;
    if (m) this.addPeers([...m.servers.values()].filter((s) => !this.peers.has(s.id)));
    this.fle?.setLastSeen(this.lastSeen);
  }

  /** The role is established in `epoch`: answer LOOKING peers with that peerEpoch. */
  updateElectionVote(epoch: number): void {
    this.fle?.updateElectionVote(epoch);
  }

  /** The role was taken up (kept for logging; the core already answers with its decided vote). */
  setDecided(state: string, leader: number): void {
    this.logger.debug({ state, leader }, 'election vote in force');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.finalizeTimer) clearTimeout(this.finalizeTimer);
    await this.cnx.close();
  }
}

/** The `version=` of a membership text (0 when absent). */
function configVersionOf(text: string): number {
  const m = /(?:^|\n)version=([0-9a-fA-F]+)\s*$/.exec(text);
  return m ? parseInt(m[1], 16) : 0;
}
