// ZooKeeper connect strings: "host1:port1,host2:port2[/chroot]" (ConnectStringParser). A host
// without a port gets the default client port 2181; IPv6 literals are written in brackets.

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** the chroot suffix, or '' when the client works on the whole tree */
  chroot: string;
}

export const DEFAULT_CLIENT_PORT = 2181;

export function parseConnectString(text: string): ConnectString {
  let hostsPart = text;
  let chroot = '';
  const slash = text.indexOf('/');
  if (slash >= 0) {
    hostsPart = text.substring(0, slash);
    chroot = text.substring(slash);
    // a chroot of "/" is the whole tree, as in ConnectStringParser
    if (chroot === '/') chroot = '';
  }
  const hosts: HostPort[] = [];
  for (const raw of hostsPart.split(',')) {
    const h = raw.trim();
    if (!h) continue;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
    if (v6) {
      hosts.push({ host: v6[1], port: v6[2] ? Number(v6[2]) : DEFAULT_CLIENT_PORT });
      continue;
    }
    const colon = h.lastIndexOf(':');
    if (colon >= 0) hosts.push({ host: h.substring(0, colon), port: Number(h.substring(colon + 1)) });
    else hosts.push({ host: h, port: DEFAULT_CLIENT_PORT });
  }
  if (hosts.length === 0) throw new Error('A HostProvider may not be empty!');
  return { hosts, chroot };
}
