// One standalone server of each kind, started the same way for a side-by-side comparison with real
// clients: Apache ZooKeeper 3.8 (its JVM flags, e.g. the JAAS file) and zk-server (the same flags
// through SERVER_JVMFLAGS), each with extra zoo.cfg lines, each waited for until it serves.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startZk, stopZk } from './apache-zk';
import { fourLetter, freePorts, Peers } from './peers';

export interface Side {
  name: 'zookeeper' | 'zk-server';
  port: number;
  log: () => string;
  stop: () => Promise<void>;
}

/** Apache ZooKeeper 3.8 standalone, its dataDir under `parent`. */
export async function startApacheSide(parent: string, lines: string[], jvmFlags: string[] = []): Promise<Side> {
  const dir = fs.mkdtempSync(path.join(parent, 'zk-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const zk = await startZk(data, lines, jvmFlags);
  // the port is open before the server serves: wait until it answers as a server
  const end = Date.now() + 30_000;
  while (!/Mode: standalone/.test(await fourLetter(zk.port, 'srvr')) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return { name: 'zookeeper', port: zk.port, log: zk.output, stop: () => stopZk(zk) };
}

/** zk-server standalone (bin/zk-server.js start-foreground), JVM-style flags in SERVER_JVMFLAGS. */
export async function startOursSide(lines: string[], jvmFlags: string[] = []): Promise<Side> {
  const [port] = await freePorts(1);
  const peers = new Peers({ clientPort: () => port, common: ['tickTime=2000', 'maxSessionTimeout=60000', ...lines] }, 'zk-side-');
  peers.start(1, { SERVER_JVMFLAGS: jvmFlags.join(' ') });
  await peers.waitFor(async () => (await peers.ask(1, 'ruok')) === 'imok', 20_000, 'zk-server to serve');
  return {
    name: 'zk-server',
    port,
    log: () => peers.logs.get(1) ?? '',
    stop: async () => {
      await peers.stopAll();
      fs.rmSync(peers.root, { recursive: true, force: true });
    },
  };
}
