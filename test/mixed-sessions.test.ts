// Session keepalive across implementations, in one ensemble of zk-server peers and an Apache
// ZooKeeper 3.8 peer (Debian's QuorumPeerMain), at the default tickTime=2000:
//  1. a zk-server follower under a Java leader: a Java-client session and a kazoo session held on
//     our follower for 3x their 6 s timeout keep their session and ephemeral, never disconnected
//     (our PING replies carry the touches in the format the Java leader reads);
//  2. a Java follower under a zk-server leader: the same on the Java follower (our leader reads the
//     Java learner's touches).
// Servers 1 and 2 are zk-server, server 3 is Java; ports come from the OS.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { children, hold, prepareClients } from './helpers/keepalive';
import { ensembleSpec, Peers, PeerSpec } from './helpers/peers';

const SKIP = process.env.ZK_SKIP_REAL_CLIENTS === '1';
const JARS = [
  'zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'commons-cli', 'snappy-java', 'metrics-core', 'netty-handler',
  'netty-transport', 'netty-common', 'netty-buffer', 'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common',
  'netty-transport-classes-epoll', 'jackson-databind', 'jackson-core', 'jackson-annotations', 'audience-annotations',
].map((j) => `/usr/share/java/${j}.jar`);
const TICK = 2000;
const TIMEOUT = 6000;
const HOLD = 3 * TIMEOUT;

describe.skipIf(SKIP)('sessions in a mixed ensemble: two zk-server peers and one Apache ZooKeeper 3.8 peer, tickTime=2000', () => {
  let spec: PeerSpec;
  let peers: Peers;
  let java: ChildProcess | null = null;
  let javaLog = '';

  const startJava = (): void => {
    const cfg = peers.cfg(3); // ZooKeeper reads the same zoo.cfg keys
    java = spawn('java', ['-Xmx256m', '-Dzookeeper.4lw.commands.whitelist=*', '-cp', JARS.filter((j) => fs.existsSync(j)).join(':'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    java.stdout!.on('data', (d) => (javaLog = (javaLog + d).slice(-20000)));
    java.stderr!.on('data', (d) => (javaLog = (javaLog + d).slice(-20000)));
  };
  const stopJava = async (): Promise<void> => {
    const j = java;
    if (!j || j.exitCode !== null) return;
    const exited = new Promise((r) => j.once('exit', r));
    j.kill('SIGKILL');
    await exited;
    java = null;
  };
  const waitModes = async (want: string[], what: string): Promise<void> => {
    await peers
      .waitFor(async () => (await Promise.all([1, 2, 3].map((i) => peers.mode(i)))).join() === want.join(), 60_000, `${what} (modes ${want.join()})`)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n--- java\n${javaLog.split('\n').slice(-20).join('\n')}`);
      });
  };
  const holdBoth = async (i: number, tag: string): Promise<string[]> => {
    const cs = `127.0.0.1:${spec.clientPort(i)}`;
    const [j, k] = await Promise.all([hold('java', cs, TIMEOUT, HOLD, `/mixed-java-${tag}`), hold('kazoo', cs, TIMEOUT, HOLD, `/mixed-kazoo-${tag}`)]);
    return [j && `java client: ${j}`, k && `kazoo: ${k}`].filter((x): x is string => !!x);
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'cli.js'))) throw new Error('dist/ is missing: build first (npm test runs tsc before vitest)');
    if (!fs.existsSync('/usr/share/java/slf4j-simple.jar')) throw new Error('Apache ZooKeeper 3.8 is missing: run scripts/install-test-deps.sh');
    await prepareClients();
    spec = await ensembleSpec(3, { tickTime: TICK, initLimit: 10, syncLimit: 5 });
    peers = new Peers(spec, 'zk-mixed-sessions-');
  }, 120_000);

  afterAll(async () => {
    for (const p of children) p.kill('SIGKILL');
    await stopJava();
    await peers?.stopAll();
  });

  it('a zk-server follower under a Java leader keeps Java-client and kazoo sessions for 3x their timeout', async () => {
    // equal zxids: the larger sid (Java 3) leads
    peers.start(1);
    startJava();
    await waitModes(['follower', 'none', 'leader'], 'Java server 3 leads, zk-server 1 follows');
    expect(await holdBoth(1, 'java-leader')).toEqual([]);
  }, 180_000);

  it('a Java follower under a zk-server leader keeps Java-client and kazoo sessions for 3x their timeout', async () => {
    await stopJava();
    peers.start(2);
    // server 1 holds the newer history, so it leads and the new server 2 follows
    await waitModes(['leader', 'follower', 'none'], 'zk-server 1 leads, zk-server 2 follows');
    startJava();
    await waitModes(['leader', 'follower', 'follower'], 'Java server 3 follows zk-server 1');
    expect(await holdBoth(3, 'zk-leader')).toEqual([]);
  }, 180_000);
});
