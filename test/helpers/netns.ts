// Network namespaces for partition tests, made and removed by the test itself: one namespace per
// peer on a private bridge, so a test can cut a peer off from the other peers (its clients, in the
// root namespace, still reach it) and heal it again. Needs root and iproute2; `available()` says
// whether this machine allows it.
import { execFileSync } from 'node:child_process';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetNs {
  readonly bridge: string;
  private made = false;

  /** `prefix`: letters/digits (≤ 8); `net`: A.B.C of a /24 that no interface of this machine uses */
  constructor(
    readonly prefix: string,
    readonly net: string,
    readonly size: number,
  ) {
    this.bridge = `${prefix}br`;
  }

  /** null if namespaces can be made here, else why not */
  static unavailable(): string | null {
    if (process.getuid?.() !== 0) return 'not root';
    try {
      ip('-V');
    } catch {
      return 'ip (iproute2) not found';
    }
    try {
      ip('netns', 'list');
    } catch (e) {
      return `ip netns does not work here: ${String(e)}`;
    }
    return null;
  }

  ns(i: number): string {
    return `${this.prefix}${i}`;
  }
  addr(i: number): string {
    return `${this.net}.${i}`;
  }
  private veth(i: number): string {
    return `${this.prefix}v${i}`;
  }

  setup(): void {
    this.teardown();
    if (ip('-4', '-o', 'addr', 'show').includes(` ${this.net}.`)) throw new Error(`an interface already uses ${this.net}.0/24`);
    this.made = true;
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.net}.254/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    for (let i = 1; i <= this.size; i++) {
      const ns = this.ns(i);
      ip('netns', 'add', ns);
      ip('link', 'add', this.veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', this.veth(i), 'master', this.bridge, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${this.addr(i)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', `${this.net}.254`);
    }
  }

  /** Peer `i` and every other peer can no longer reach each other, both ways; the root namespace still can. */
  isolate(i: number): void {
    for (let j = 1; j <= this.size; j++) {
      if (j === i) continue;
      ip('-n', this.ns(i), 'route', 'replace', 'prohibit', `${this.addr(j)}/32`);
      ip('-n', this.ns(j), 'route', 'replace', 'prohibit', `${this.addr(i)}/32`);
    }
  }

  heal(i: number): void {
    for (let j = 1; j <= this.size; j++) {
      if (j === i) continue;
      for (const [a, b] of [
        [i, j],
        [j, i],
      ]) {
        try {
          ip('-n', this.ns(a), 'route', 'del', `${this.addr(b)}/32`);
        } catch {
          // not blocked
        }
      }
    }
  }

  teardown(): void {
    for (let i = 1; i <= this.size; i++) {
      try {
        ip('link', 'del', this.veth(i));
      } catch {
        // gone
      }
      try {
        ip('netns', 'del', this.ns(i));
      } catch {
        // gone
      }
    }
    try {
      ip('link', 'del', this.bridge);
    } catch {
      // gone
    }
    this.made = false;
  }

  get active(): boolean {
    return this.made;
  }
}
