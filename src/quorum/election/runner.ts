// Glue between the FastLeaderElection state machine (fle.ts) and the election port
// (cnxmanager.ts) with real time: decodes incoming payloads, feeds them and timer ticks to the
// state machine, encodes and sends what it returns. It stays attached after a decision, so a peer
// that is FOLLOWING/LEADING keeps answering LOOKING peers with its current vote.
import { QuorumCnxManager } from './cnxmanager';
import { Decision, FastLeaderElection, Step } from './fle';
import { decodeNotification, encodeNotification } from './notification';

export interface ElectionRunnerOptions {
  /** monotonic milliseconds; defaults to performance.now() */
  clock?: () => number;
  /** diagnostics */
  log?: (msg: string) => void;
}

export class ElectionRunner {
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private waiting: { resolve: (d: Decision) => void; reject: (e: Error) => void } | null = null;
  private readonly clock: () => number;
  private readonly onMessage = (sid: number, buf: Buffer): void => this.handleMessage(sid, buf);
  private stopped = false;

  constructor(
    readonly fle: FastLeaderElection,
    readonly cnx: QuorumCnxManager,
    private readonly o: ElectionRunnerOptions = {},
  ) {
    this.clock = o.clock ?? (() => performance.now());
    cnx.on('message', this.onMessage);
  }

  /**
   * Run one election (QuorumPeer LOOKING → lookForLeader) and resolve with the decision.
   * `data` updates lastLoggedZxid / currentEpoch for this round.
   */
  lookForLeader(data?: { lastLoggedZxid?: number; currentEpoch?: number }): Promise<Decision> {
    if (this.stopped) return Promise.reject(new Error('election runner stopped'));
    if (this.waiting) return Promise.reject(new Error('an election is already running'));
    return new Promise<Decision>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.apply(this.fle.start(this.clock(), data), false);
    });
  }

  /** Detach from the connection manager and cancel timers; a pending lookForLeader rejects. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cnx.removeListener('message', this.onMessage);
    this.clearTimer();
    const w = this.waiting;
    this.waiting = null;
    w?.reject(new Error('election runner stopped'));
  }

  private handleMessage(sid: number, buf: Buffer): void {
    if (this.stopped) return;
    const n = decodeNotification(buf);
    if (!n) {
      this.o.log?.(`ignoring malformed notification from ${sid} (${buf.length} bytes)`);
      return;
    }
    this.apply(this.fle.receive(sid, n, this.clock()), false);
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    this.apply(this.fle.tick(this.clock()), true);
  }

  private apply(step: Step, fromTick: boolean): void {
    if (fromTick && step.timedOut && !this.cnx.haveDelivered()) {
      // Some peer has not taken our last message yet: reconnect rather than pile up re-sends.
      this.cnx.connectAll();
    } else {
      for (const { to, msg } of step.send) this.cnx.send(to, encodeNotification(msg));
    }
    if (step.decided) {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(step.decided);
    }
    this.schedule();
  }

  private schedule(): void {
    const at = this.fle.nextDeadline();
    if (at === null) {
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerAt === at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(at - this.clock())));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
