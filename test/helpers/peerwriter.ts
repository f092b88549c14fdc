// A client that stays on one peer (no failover) and writes its own znode every 100 ms while it
// pings every timeout/3: what a fault test watches to see whether a peer went on serving. A
// request that fails and a connection that closes are what such tests count as failures.
import { MiniClient } from './miniclient';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PeerWriter {
  /** writes acknowledged */
  ok = 0;
  /** the slowest write, ms */
  maxMs = 0;
  errors: string[] = [];
  private stopped = false;
  private done: Promise<void> | null = null;
  private stopPinging: (() => void) | null = null;

  constructor(
    readonly c: MiniClient,
    readonly znode: string,
  ) {}

  start(): void {
    this.stopPinging = this.c.startPinging();
    this.done = (async () => {
      for (let n = 0; !this.stopped; n++) {
        const t0 = Date.now();
        const err = await this.c.setData(this.znode, Buffer.from(String(n))).catch((e: Error) => e.message);
        this.maxMs = Math.max(this.maxMs, Date.now() - t0);
        if (err === 0) this.ok++;
        else this.errors.push(String(err));
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPinging?.();
    await this.done;
  }
}
