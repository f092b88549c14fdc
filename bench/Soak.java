// The client side of bench/soak.js: an hour of what real applications do to an ensemble, through
// the Apache ZooKeeper 3.8 Java client and Curator, on every server of the connect string (leader,
// followers, observer alike). Compiled by bench/soak.js with javac at run time.
//
//   java -cp <classes>:/usr/share/java/* Soak --servers h:p,h:p,... --duration SECONDS
//        [--pace-ms 4] [--pinned-per-server 2] [--churn-threads 2]
//
// What runs, side by side, until --duration is up:
//   pinned   long-lived sessions (6 s timeout), each bound to one server, each owning an ephemeral;
//            a loop of setData / getData with a watch / exists with a watch on a missing znode /
//            getChildren with a watch / multi (create, setData, delete) / sync + getData, one op
//            every --pace-ms; every 2 s each checks that its ephemeral is still its own. One of
//            them holds a persistent recursive watch on /soak/data.
//   churn    threads that open a session on a random server, create an ephemeral and an ephemeral
//            sequential znode, set watches, and close it, over and over.
//   abandon  every 500 ms a session opened with the bare wire protocol (ConnectRequest, then a
//            CreateRequest for an ephemeral under /soak/abandoned) whose socket is then dropped
//            without closeSession: the servers must expire it and remove its ephemeral.
//   curator  three Curator clients, one per server: a LeaderLatch (exactly one leader at all times),
//            an InterProcessMutex guarding a read-modify-write of /soak/counter with the version
//            read (BadVersion inside the lock = mutual exclusion broken), and a CuratorCache of
//            /soak/data (watches on every znode under it).
//
// A "problem" is anything a healthy ensemble without faults must never do: a pinned session
// disconnected or expired, an ephemeral lost, an abandoned ephemeral older than 15 s (4 s timeout,
// 2 s ticks), two latch leaders or none for more than 10 s, a lost update under the lock, any
// unexpected KeeperException. Prints one JSON status line every 10 s and a final line with
// "final":true; exits 0 only when the run had no problem.
import java.io.*;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.*;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.data.Stat;

public class Soak {
  static String[] servers;
  static long durationMs = 3600_000;
  static long paceMs = 4;
  static int pinnedPerServer = 2;
  static int churnThreads = 2;
  static final long start = System.currentTimeMillis();
  static volatile boolean stopping = false;

  static final ConcurrentSkipListMap<String, AtomicLong> counts = new ConcurrentSkipListMap<>();
  static final AtomicLong problems = new AtomicLong();
  static final List<String> problemLog = Collections.synchronizedList(new ArrayList<>());

  static void count(String k) { count(k, 1); }
  static void count(String k, long n) { counts.computeIfAbsent(k, x -> new AtomicLong()).addAndGet(n); }
  static long elapsed() { return System.currentTimeMillis() - start; }

  static void problem(String what) {
    problems.incrementAndGet();
    String line = String.format("%.1fs %s", elapsed() / 1000.0, what);
    if (problemLog.size() < 100) problemLog.add(line);
    System.err.println("PROBLEM " + line);
  }

  static final byte[] DATA = new byte[100];
  static final Random seed = new Random();
  static final int POOL = 200, MISSING = 50;

  // ---------- pinned sessions ----------
  static final class Pinned implements Runnable, Watcher {
    final int id;
    final String server;
    ZooKeeper zk;
    volatile long sessionId;
    final Random rnd = new Random(seed.nextLong());

    Pinned(int id, String server) { this.id = id; this.server = server; }

    public void process(WatchedEvent e) {
      if (e.getType() != Event.EventType.None) { count("watch_events"); return; }
      KeeperState s = e.getState();
      if (s == KeeperState.Disconnected && !stopping) problem("pinned " + id + " on " + server + " disconnected");
      if (s == KeeperState.Expired) problem("pinned " + id + " on " + server + " expired");
    }

    void open() throws Exception {
      CountDownLatch up = new CountDownLatch(1);
      zk = new ZooKeeper(server, 6000, e -> {
        if (e.getState() == KeeperState.SyncConnected) up.countDown();
        process(e);
      });
      if (!up.await(20, TimeUnit.SECONDS)) throw new IOException("pinned " + id + " could not connect to " + server);
      sessionId = zk.getSessionId();
      zk.create("/soak/live/p-" + id, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
      if (id == 0) {
        zk.addWatch("/soak/data", e -> count("recursive_watch_events"), AddWatchMode.PERSISTENT_RECURSIVE);
      }
    }

    public void run() {
      long nextCheck = 0;
      while (!stopping) {
        try {
          step();
          if (System.currentTimeMillis() >= nextCheck) {
            nextCheck = System.currentTimeMillis() + 2000;
            Stat st = zk.exists("/soak/live/p-" + id, false);
            if (st == null) problem("pinned " + id + ": its ephemeral is gone");
            else if (st.getEphemeralOwner() != sessionId) problem("pinned " + id + ": its ephemeral has another owner");
          }
          if (paceMs > 0) Thread.sleep(paceMs);
        } catch (InterruptedException e) {
          return;
        } catch (KeeperException e) {
          if (!stopping) problem("pinned " + id + " on " + server + ": " + e.code() + " " + e.getPath());
          sleepQuietly(100);
        } catch (Exception e) {
          if (!stopping) problem("pinned " + id + ": " + e);
          sleepQuietly(100);
        }
      }
    }

    void step() throws Exception {
      int r = rnd.nextInt(100);
      String node = "/soak/data/n-" + rnd.nextInt(POOL);
      if (r < 30) {
        zk.setData(node, DATA, -1);
        count("setData");
      } else if (r < 60) {
        zk.getData(node, this, null);
        count("getData");
      } else if (r < 70) {
        zk.exists("/soak/data/missing-" + rnd.nextInt(MISSING), this);
        count("exists");
      } else if (r < 75) {
        // fires the exists watches above and the child watches below
        String m = "/soak/data/missing-" + rnd.nextInt(MISSING);
        try {
          zk.create(m, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
          zk.delete(m, -1);
          count("create+delete");
        } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
          count("create+delete raced"); // another pinned session has the same name right now
        }
      } else if (r < 85) {
        zk.getChildren("/soak/data", this);
        count("getChildren");
      } else if (r < 95) {
        String t = "/soak/tmp/p-" + id;
        zk.multi(Arrays.asList(
            Op.create(t, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.setData(t, DATA, 0),
            Op.delete(t, 1)));
        count("multi");
      } else {
        CountDownLatch done = new CountDownLatch(1);
        zk.sync(node, (rc, p, ctx) -> done.countDown(), null);
        if (!done.await(10, TimeUnit.SECONDS)) problem("pinned " + id + ": sync unanswered for 10 s");
        zk.getData(node, false, null);
        count("sync+getData");
      }
    }
  }

  // ---------- churn ----------
  static void churn(int tid) {
    Random rnd = new Random(seed.nextLong());
    long n = 0;
    while (!stopping) {
      String server = servers[rnd.nextInt(servers.length)];
      ZooKeeper zk = null;
      try {
        CountDownLatch up = new CountDownLatch(1);
        zk = new ZooKeeper(server, 6000, e -> {
          if (e.getState() == KeeperState.SyncConnected) up.countDown();
          else if (e.getType() != Watcher.Event.EventType.None) count("watch_events");
        });
        if (!up.await(20, TimeUnit.SECONDS)) { problem("churn: no connection to " + server + " in 20 s"); continue; }
        String own = "/soak/churn/c-" + tid + "-" + (n++);
        zk.create(own, DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.create("/soak/churn/q-", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.getData(own, true, null);
        zk.exists("/soak/churn/none-" + rnd.nextInt(1000), true);
        zk.getChildren("/soak/churn", true);
        count("churned_sessions");
      } catch (InterruptedException e) {
        return;
      } catch (KeeperException e) {
        if (!stopping) problem("churn on " + server + ": " + e.code() + " " + e.getPath());
      } catch (Exception e) {
        if (!stopping) problem("churn on " + server + ": " + e);
      } finally {
        if (zk != null) {
          try { zk.close(); } catch (InterruptedException e) { return; }
        }
      }
      sleepQuietly(20);
    }
  }

  // ---------- abandoned sessions (bare wire protocol) ----------
  static final ConcurrentHashMap<String, Long> abandonedAt = new ConcurrentHashMap<>();
  static final AtomicLong oldestAbandonedSeenMs = new AtomicLong();

  static void writeString(DataOutputStream d, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    d.writeInt(b.length);
    d.write(b);
  }

  static byte[] readFrame(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 0 || len > 1 << 20) throw new IOException("bad frame length " + len);
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }

  static void sendFrame(DataOutputStream out, ByteArrayOutputStream b) throws IOException {
    out.writeInt(b.size());
    b.writeTo(out);
    out.flush();
  }

  static void abandonOne(String server, String path) throws IOException {
    String[] hp = server.split(":");
    try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
      s.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(b);
      d.writeInt(0); // protocolVersion
      d.writeLong(0); // lastZxidSeen
      d.writeInt(4000); // timeOut
      d.writeLong(0); // sessionId
      d.writeInt(16);
      d.write(new byte[16]); // passwd
      d.writeBoolean(false); // readOnly
      sendFrame(out, b);
      DataInputStream cr = new DataInputStream(new ByteArrayInputStream(readFrame(in)));
      cr.readInt();
      int timeout = cr.readInt();
      long sid = cr.readLong();
      if (sid == 0 || timeout <= 0) throw new IOException("connect refused by " + server);
      b.reset();
      d.writeInt(1); // xid
      d.writeInt(1); // OpCode.create
      writeString(d, path);
      d.writeInt(DATA.length);
      d.write(DATA);
      d.writeInt(1); // one ACL: world:anyone, all permissions
      d.writeInt(ZooDefs.Perms.ALL);
      writeString(d, "world");
      writeString(d, "anyone");
      d.writeInt(1); // CreateMode.EPHEMERAL
      sendFrame(out, b);
      DataInputStream rr = new DataInputStream(new ByteArrayInputStream(readFrame(in)));
      int xid = rr.readInt();
      rr.readLong();
      int err = rr.readInt();
      if (xid != 1 || err != 0) throw new IOException("create " + path + " on " + server + ": xid " + xid + " err " + err);
      abandonedAt.put(path.substring(path.lastIndexOf('/') + 1), System.currentTimeMillis());
      count("abandoned_sessions");
    } // the socket closes here without a closeSession
  }

  static void abandonLoop() {
    Random rnd = new Random(seed.nextLong());
    long n = 0;
    while (!stopping) {
      String server = servers[rnd.nextInt(servers.length)];
      try {
        abandonOne(server, "/soak/abandoned/a-" + (n++));
      } catch (IOException e) {
        if (!stopping) problem("abandon: " + e.getMessage());
      }
      sleepQuietly(500);
    }
  }

  /** Every 5 s: every abandoned ephemeral must be gone within 15 s of its session's last packet. */
  static void checkAbandoned(ZooKeeper zk) throws Exception {
    long now = System.currentTimeMillis();
    for (String c : zk.getChildren("/soak/abandoned", false)) {
      Long at = abandonedAt.get(c);
      if (at == null) continue; // its create's reply has not reached the loop yet
      long age = now - at;
      oldestAbandonedSeenMs.accumulateAndGet(age, Math::max);
      if (age > 15_000) problem("abandoned ephemeral " + c + " still there " + age + " ms after its socket closed");
    }
    // forget what is gone, so that the map stays small
    Set<String> present = new HashSet<>(zk.getChildren("/soak/abandoned", false));
    abandonedAt.keySet().removeIf(k -> !present.contains(k) && now - abandonedAt.get(k) > 1000);
  }

  // ---------- curator ----------
  static void curatorLoop(CuratorFramework c, InterProcessMutex mutex) {
    while (!stopping) {
      try {
        if (!mutex.acquire(30, TimeUnit.SECONDS)) { problem("curator: lock not acquired in 30 s"); continue; }
        try {
          Stat st = new Stat();
          byte[] v = c.getData().storingStatIn(st).forPath("/soak/counter");
          long n = Long.parseLong(new String(v, StandardCharsets.UTF_8));
          c.setData().withVersion(st.getVersion()).forPath("/soak/counter", Long.toString(n + 1).getBytes(StandardCharsets.UTF_8));
          count("lock_increments");
        } finally {
          mutex.release();
        }
      } catch (KeeperException.BadVersionException e) {
        problem("curator: another client wrote /soak/counter while this one held the lock");
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        if (!stopping) problem("curator: " + e);
      }
      sleepQuietly(10);
    }
  }

  static void sleepQuietly(long ms) {
    try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
  }

  static void ensure(ZooKeeper zk, String path, byte[] data) throws Exception {
    try {
      zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // from an earlier run on the same dataDir
    }
  }

  static String status(boolean fin, List<LeaderLatch> latches) {
    StringBuilder sb = new StringBuilder("{\"t_s\":").append(elapsed() / 1000);
    for (Map.Entry<String, AtomicLong> e : counts.entrySet()) sb.append(",\"").append(e.getKey()).append("\":").append(e.getValue().get());
    int leaders = 0;
    for (LeaderLatch l : latches) if (l.hasLeadership()) leaders++;
    sb.append(",\"latch_leaders\":").append(leaders);
    sb.append(",\"oldest_abandoned_seen_ms\":").append(oldestAbandonedSeenMs.get());
    sb.append(",\"problems\":").append(problems.get());
    if (fin) {
      sb.append(",\"final\":true,\"problem_log\":[");
      synchronized (problemLog) {
        for (int i = 0; i < problemLog.size(); i++) sb.append(i > 0 ? "," : "").append('"').append(problemLog.get(i).replace("\\", "\\\\").replace("\"", "'")).append('"');
      }
      sb.append(']');
    }
    return sb.append('}').toString();
  }

  public static void main(String[] args) throws Exception {
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--servers": servers = v.split(","); break;
        case "--duration": durationMs = (long) (Double.parseDouble(v) * 1000); break;
        case "--pace-ms": paceMs = Long.parseLong(v); break;
        case "--pinned-per-server": pinnedPerServer = Integer.parseInt(v); break;
        case "--churn-threads": churnThreads = Integer.parseInt(v); break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    String all = String.join(",", servers);

    // the tree
    ZooKeeper admin = new ZooKeeper(all, 30_000, e -> {});
    for (int i = 0; i < 200 && admin.getState() != ZooKeeper.States.CONNECTED; i++) Thread.sleep(100);
    for (String p : new String[] {"/soak", "/soak/data", "/soak/live", "/soak/tmp", "/soak/churn", "/soak/abandoned"}) ensure(admin, p, new byte[0]);
    ensure(admin, "/soak/counter", "0".getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < POOL; i++) ensure(admin, "/soak/data/n-" + i, DATA);
    long counterAtStart = Long.parseLong(new String(admin.getData("/soak/counter", false, null), StandardCharsets.UTF_8));

    List<Thread> threads = new ArrayList<>();
    List<Pinned> pinned = new ArrayList<>();
    for (int i = 0; i < servers.length * pinnedPerServer; i++) {
      Pinned p = new Pinned(i, servers[i % servers.length]);
      p.open();
      pinned.add(p);
      threads.add(new Thread(p, "pinned-" + i));
    }
    for (int t = 0; t < churnThreads; t++) {
      final int tid = t;
      threads.add(new Thread(() -> churn(tid), "churn-" + t));
    }
    threads.add(new Thread(Soak::abandonLoop, "abandon"));

    List<CuratorFramework> curators = new ArrayList<>();
    List<LeaderLatch> latches = new ArrayList<>();
    for (int i = 0; i < Math.min(3, servers.length); i++) {
      CuratorFramework c = CuratorFrameworkFactory.builder().connectString(servers[i]).sessionTimeoutMs(6000)
          .connectionTimeoutMs(15000).retryPolicy(new ExponentialBackoffRetry(100, 5)).build();
      c.start();
      if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) throw new IOException("curator could not connect to " + servers[i]);
      curators.add(c);
      LeaderLatch latch = new LeaderLatch(c, "/soak/latch", "c" + i);
      latch.start();
      latches.add(latch);
      CuratorCache cache = CuratorCache.build(c, "/soak/data");
      cache.listenable().addListener((type, oldData, data) -> count("curator_cache_events"));
      cache.start();
      InterProcessMutex mutex = new InterProcessMutex(c, "/soak/lock");
      threads.add(new Thread(() -> curatorLoop(c, mutex), "curator-" + i));
    }
    for (Thread t : threads) t.start();

    long end = start + durationMs;
    long nextStatus = start + 10_000, nextAbandonCheck = start + 5_000, noLeaderSince = -1;
    while (System.currentTimeMillis() < end) {
      Thread.sleep(250);
      long now = System.currentTimeMillis();
      if (now >= nextAbandonCheck) {
        nextAbandonCheck = now + 5_000;
        try { checkAbandoned(admin); } catch (Exception e) { problem("checker: " + e); }
        int leaders = 0;
        for (LeaderLatch l : latches) if (l.hasLeadership()) leaders++;
        if (leaders > 1) problem(leaders + " latch leaders at once");
        if (leaders == 0 && noLeaderSince < 0) noLeaderSince = now;
        if (leaders > 0) noLeaderSince = -1;
        if (noLeaderSince >= 0 && now - noLeaderSince > 10_000) { problem("no latch leader for 10 s"); noLeaderSince = now; }
      }
      if (now >= nextStatus) {
        nextStatus = now + 10_000;
        System.out.println(status(false, latches));
        System.out.flush();
      }
    }

    // wind down: stop the loops, then check what must be left behind
    stopping = true;
    for (Thread t : threads) t.join(30_000);
    long increments = counts.getOrDefault("lock_increments", new AtomicLong()).get();
    long counter = Long.parseLong(new String(admin.getData("/soak/counter", false, null), StandardCharsets.UTF_8));
    if (counter - counterAtStart != increments) problem("/soak/counter moved by " + (counter - counterAtStart) + " but " + increments + " increments were acknowledged");
    int live = admin.getChildren("/soak/live", false).size();
    if (live != pinned.size()) problem(live + " pinned ephemerals at the end, expected " + pinned.size());
    for (LeaderLatch l : latches) l.close();
    for (CuratorFramework c : curators) c.close();
    for (Pinned p : pinned) p.zk.close();
    // every abandoned session's ephemeral is gone once its timeout has run out (4 s + 2 s ticks)
    Thread.sleep(15_000);
    List<String> left = admin.getChildren("/soak/abandoned", false);
    if (!left.isEmpty()) problem(left.size() + " abandoned ephemerals left 15 s after the last, e.g. " + left.get(0));
    List<String> churnLeft = admin.getChildren("/soak/churn", false);
    if (!churnLeft.isEmpty()) problem(churnLeft.size() + " churn ephemerals left after their sessions closed, e.g. " + churnLeft.get(0));
    List<String> liveLeft = admin.getChildren("/soak/live", false);
    if (!liveLeft.isEmpty()) problem(liveLeft.size() + " pinned ephemerals left after their sessions closed");
    System.out.println(status(true, latches));
    System.out.flush();
    admin.close();
    System.exit(problems.get() == 0 ? 0 : 1);
  }
}
