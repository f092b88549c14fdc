// Drives a ZooKeeper server with the real Apache ZooKeeper 3.8 Java client and Curator (Debian
// packages libzookeeper-java and libcurator-*-java). Usage: java JavaClientCheck HOST:PORT
// Prints one line per check, `OK name` or `FAIL name: reason`, then exits 1 if any check failed.
// Used by test/realclients.test.ts; runs equally against Apache ZooKeeper (extendedTypesEnabled=true).
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.*;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class JavaClientCheck {
  static int failures = 0;
  static String cs;
  static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;
  static final List<ZooKeeper> handles = new ArrayList<>();

  interface Check { void run() throws Exception; }

  static void check(String name, Check c) {
    try {
      c.run();
      System.out.println("OK " + name);
    } catch (Throwable t) {
      failures++;
      System.out.println("FAIL " + name + ": " + t);
    }
    System.out.flush();
  }

  static void expect(boolean b, String what) {
    if (!b) throw new AssertionError(what);
  }

  static void eq(Object want, Object got, String what) {
    if (!Objects.equals(want, got)) throw new AssertionError(what + ": want " + want + ", got " + got);
  }

  static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  static String str(byte[] d) { return d == null ? null : new String(d, StandardCharsets.UTF_8); }

  /** Runs f, which must fail with KeeperException of the given code. */
  static void expectErr(Code code, String what, Check f) throws Exception {
    try {
      f.run();
    } catch (KeeperException e) {
      eq(code, e.code(), what);
      return;
    }
    throw new AssertionError(what + ": no " + code);
  }

  static ZooKeeper connect(Watcher extra) throws Exception {
    CountDownLatch l = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(cs, 10000, e -> {
      if (e.getState() == KeeperState.SyncConnected) l.countDown();
      if (extra != null) extra.process(e);
    });
    handles.add(zk);
    if (!l.await(20, TimeUnit.SECONDS)) throw new RuntimeException("no connection to " + cs);
    return zk;
  }

  static WatchedEvent next(BlockingQueue<WatchedEvent> q) throws InterruptedException {
    WatchedEvent e = q.poll(5, TimeUnit.SECONDS);
    if (e == null) throw new AssertionError("no watch event within 5 s");
    return e;
  }

  static void event(BlockingQueue<WatchedEvent> q, EventType type, String path) throws InterruptedException {
    WatchedEvent e = next(q);
    eq(type + " " + path, e.getType() + " " + e.getPath(), "watch event");
  }

  static void quiet(BlockingQueue<WatchedEvent> q, String what) throws InterruptedException {
    WatchedEvent e = q.poll(300, TimeUnit.MILLISECONDS);
    if (e != null) throw new AssertionError(what + ": unexpected event " + e);
  }

  static void waitGone(ZooKeeper zk, String path, long ms, String what) throws Exception {
    long end = System.currentTimeMillis() + ms;
    while (zk.exists(path, false) != null) {
      if (System.currentTimeMillis() > end) throw new AssertionError(what + ": " + path + " still exists after " + ms + " ms");
      Thread.sleep(100);
    }
  }

  public static void main(String[] a) throws Exception {
    cs = a[0];
    // A watchdog, so that a hung client can never hang the test run.
    Thread dog = new Thread(() -> {
      try {
        Thread.sleep(100_000);
        System.out.println("FAIL watchdog: checks did not finish within 100 s");
        System.out.flush();
        Runtime.getRuntime().halt(2);
      } catch (InterruptedException e) { }
    });
    dog.setDaemon(true);
    dog.start();

    ZooKeeper zk = connect(null);
    String r = "/java-" + System.nanoTime();
    zk.create(r, b("root"), OPEN, CreateMode.PERSISTENT);

    check("create_modes", () -> {
      String p = r + "/modes";
      Stat st = new Stat();
      eq(p, zk.create(p, b("d"), OPEN, CreateMode.PERSISTENT, st), "persistent path");
      eq(0L, st.getEphemeralOwner(), "persistent owner");
      eq(1, st.getDataLength(), "create2 stat dataLength");
      eq(st.getCzxid(), st.getMzxid(), "create2 czxid == mzxid");
      eq(p + "/ps-0000000000", zk.create(p + "/ps-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL), "persistent sequential");
      eq(p + "/ps-0000000001", zk.create(p + "/ps-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL), "persistent sequential 2");
      st = new Stat();
      eq(p + "/e", zk.create(p + "/e", null, OPEN, CreateMode.EPHEMERAL, st), "ephemeral path");
      eq(zk.getSessionId(), st.getEphemeralOwner(), "ephemeral owner");
      eq(p + "/es-0000000003", zk.create(p + "/es-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL), "ephemeral sequential (parent cversion 3)");
      st = new Stat();
      zk.create(p + "/c", null, OPEN, CreateMode.CONTAINER, st);
      eq(0L, st.getEphemeralOwner(), "container: clients see ephemeralOwner 0");
      st = new Stat();
      zk.create(p + "/t", null, OPEN, CreateMode.PERSISTENT_WITH_TTL, st, 60000);
      eq(0L, st.getEphemeralOwner(), "TTL node: clients see ephemeralOwner 0");
      eq(p + "/ts-0000000006", zk.create(p + "/ts-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 60000), "sequential TTL");
      expectErr(Code.NODEEXISTS, "create existing", () -> zk.create(p, null, OPEN, CreateMode.PERSISTENT));
      expectErr(Code.NONODE, "create without parent", () -> zk.create(p + "/no/such", null, OPEN, CreateMode.PERSISTENT));
      expectErr(Code.NOCHILDRENFOREPHEMERALS, "child of ephemeral", () -> zk.create(p + "/e/x", null, OPEN, CreateMode.PERSISTENT));
      expectErr(Code.NOTEMPTY, "delete non-empty", () -> zk.delete(p, -1));
      expectErr(Code.NONODE, "delete missing", () -> zk.delete(p + "/missing", -1));
      eq(7, zk.exists(p, false).getNumChildren(), "numChildren");
      List<String> kids = zk.getChildren(p, false);
      Collections.sort(kids);
      eq(Arrays.asList("c", "e", "es-0000000003", "ps-0000000000", "ps-0000000001", "t", "ts-0000000006"), kids, "children");
    });

    check("container_and_ttl_cleanup", () -> {
      String c = r + "/cont";
      zk.create(c, null, OPEN, CreateMode.CONTAINER);
      zk.create(c + "/kid", null, OPEN, CreateMode.PERSISTENT);
      zk.delete(c + "/kid", -1);
      zk.create(r + "/ttl", null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 500);
      waitGone(zk, c, 15000, "empty container removed");
      waitGone(zk, r + "/ttl", 15000, "expired TTL node removed");
      expect(zk.exists(r + "/modes/t", false) != null, "unexpired TTL node kept");
      expect(zk.exists(r + "/modes/c", false) != null, "never-used container kept");
    });

    check("data_versions", () -> {
      String p = r + "/v";
      zk.create(p, b("v0"), OPEN, CreateMode.PERSISTENT);
      Stat st = zk.setData(p, b("v1"), 0);
      eq(1, st.getVersion(), "version after set");
      expectErr(Code.BADVERSION, "setData stale version", () -> zk.setData(p, b("v2"), 0));
      st = zk.setData(p, b("v2"), -1);
      eq(2, st.getVersion(), "version after unconditional set");
      Stat got = new Stat();
      eq("v2", str(zk.getData(p, false, got)), "data");
      eq(2, got.getVersion(), "getData stat version");
      eq(2, got.getDataLength(), "getData stat dataLength");
      expect(got.getMzxid() > got.getCzxid(), "mzxid > czxid");
      zk.setData(p, null, 2);
      eq(null, str(zk.getData(p, false, null)), "null data");
      expectErr(Code.BADVERSION, "delete stale version", () -> zk.delete(p, 1));
      expectErr(Code.NONODE, "getData missing", () -> zk.getData(p + "/x", false, null));
      zk.delete(p, 3);
      eq(null, zk.exists(p, false), "deleted");
    });

    check("watches_one_shot", () -> {
      String p = r + "/w";
      BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
      Watcher w = q::add;
      eq(null, zk.exists(p, w), "exists on missing node");
      zk.create(p, b("0"), OPEN, CreateMode.PERSISTENT);
      event(q, EventType.NodeCreated, p);
      zk.setData(p, b("1"), -1);
      quiet(q, "exists watch is one-shot");
      zk.getData(p, w, null);
      zk.setData(p, b("2"), -1);
      event(q, EventType.NodeDataChanged, p);
      zk.setData(p, b("3"), -1);
      quiet(q, "data watch is one-shot");
      zk.getChildren(p, w);
      zk.create(p + "/k1", null, OPEN, CreateMode.PERSISTENT);
      event(q, EventType.NodeChildrenChanged, p);
      zk.create(p + "/k2", null, OPEN, CreateMode.PERSISTENT);
      quiet(q, "child watch is one-shot");
      zk.setData(p, b("4"), -1);
      quiet(q, "child watch ignores data changes");
      zk.exists(p + "/k1", w);
      zk.getChildren(p, w);
      zk.delete(p + "/k1", -1);
      Set<String> got = new HashSet<>();
      for (int i = 0; i < 2; i++) {
        WatchedEvent e = next(q);
        got.add(e.getType() + " " + e.getPath());
      }
      eq(new HashSet<>(Arrays.asList("NodeDeleted " + p + "/k1", "NodeChildrenChanged " + p)), got, "delete fires exists and child watches");
      quiet(q, "no more events");
    });

    check("persistent_recursive_watch", () -> {
      String p = r + "/pr";
      zk.create(p, null, OPEN, CreateMode.PERSISTENT);
      BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
      Watcher w = q::add;
      zk.addWatch(p, w, AddWatchMode.PERSISTENT_RECURSIVE);
      zk.create(p + "/a", null, OPEN, CreateMode.PERSISTENT);
      zk.create(p + "/a/b", null, OPEN, CreateMode.PERSISTENT);
      zk.setData(p + "/a/b", b("x"), -1);
      zk.setData(p + "/a/b", b("y"), -1);
      zk.delete(p + "/a/b", -1);
      zk.setData(p, b("z"), -1);
      event(q, EventType.NodeCreated, p + "/a");
      event(q, EventType.NodeCreated, p + "/a/b");
      event(q, EventType.NodeDataChanged, p + "/a/b");
      event(q, EventType.NodeDataChanged, p + "/a/b");
      event(q, EventType.NodeDeleted, p + "/a/b");
      event(q, EventType.NodeDataChanged, p);
      quiet(q, "recursive watches send no NodeChildrenChanged");
      zk.removeWatches(p, w, Watcher.WatcherType.Any, false);
      event(q, EventType.PersistentWatchRemoved, p);
      zk.setData(p + "/a", b("after"), -1);
      quiet(q, "removed watch");
    });

    check("persistent_watch", () -> {
      String p = r + "/pw";
      zk.create(p, null, OPEN, CreateMode.PERSISTENT);
      BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
      zk.addWatch(p, q::add, AddWatchMode.PERSISTENT);
      zk.setData(p, b("1"), -1);
      zk.setData(p, b("2"), -1);
      zk.create(p + "/k", null, OPEN, CreateMode.PERSISTENT);
      zk.setData(p + "/k", b("x"), -1);
      zk.delete(p + "/k", -1);
      event(q, EventType.NodeDataChanged, p);
      event(q, EventType.NodeDataChanged, p);
      event(q, EventType.NodeChildrenChanged, p);
      event(q, EventType.NodeChildrenChanged, p);
      quiet(q, "persistent (non-recursive) watch ignores grandchild data");
    });

    check("multi_success", () -> {
      String p = r + "/m";
      List<OpResult> res = zk.multi(Arrays.asList(
          Op.create(p, b("a"), OPEN, CreateMode.PERSISTENT),
          Op.create(p + "/s-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL),
          Op.setData(p, b("b"), 0),
          Op.check(p, 1),
          Op.create(p + "/x", null, OPEN, CreateMode.PERSISTENT),
          Op.delete(p + "/x", 0)));
      eq(6, res.size(), "result count");
      eq(p, ((OpResult.CreateResult) res.get(0)).getPath(), "create result path");
      eq(p + "/s-0000000000", ((OpResult.CreateResult) res.get(1)).getPath(), "sequential create result path");
      eq(1, ((OpResult.SetDataResult) res.get(2)).getStat().getVersion(), "setData result version");
      expect(res.get(3) instanceof OpResult.CheckResult, "check result: " + res.get(3));
      expect(res.get(5) instanceof OpResult.DeleteResult, "delete result: " + res.get(5));
      eq("b", str(zk.getData(p, false, null)), "data after multi");
      eq(Arrays.asList("s-0000000000"), zk.getChildren(p, false), "children after multi");
      // Transaction builder API
      List<OpResult> t = zk.transaction().setData(p, b("c"), 1).check(p, 2).commit();
      eq(2, t.size(), "transaction results");
    });

    check("multi_failure_per_op_results", () -> {
      String p = r + "/mf";
      zk.create(p, b("a"), OPEN, CreateMode.PERSISTENT);
      try {
        zk.multi(Arrays.asList(
            Op.create(p + "/new", null, OPEN, CreateMode.PERSISTENT),
            Op.setData(p, b("b"), 0),
            Op.check(p, 7),
            Op.delete(p + "/none", -1)));
        throw new AssertionError("multi did not fail");
      } catch (KeeperException e) {
        eq(Code.BADVERSION, e.code(), "exception code is the first failure");
        List<OpResult> rs = e.getResults();
        eq(4, rs.size(), "result count");
        int[] want = {0, 0, Code.BADVERSION.intValue(), Code.RUNTIMEINCONSISTENCY.intValue()};
        for (int i = 0; i < 4; i++) {
          expect(rs.get(i) instanceof OpResult.ErrorResult, "op " + i + " is an ErrorResult: " + rs.get(i));
          eq(want[i], ((OpResult.ErrorResult) rs.get(i)).getErr(), "op " + i + " err");
        }
      }
      eq(null, zk.exists(p + "/new", false), "nothing applied (create rolled back)");
      eq(0, zk.exists(p, false).getVersion(), "nothing applied (setData rolled back)");
      // read-only multi: each op answers on its own
      List<OpResult> rr = zk.multi(Arrays.asList(Op.getData(p), Op.getChildren(r + "/m"), Op.getData(p + "/none")));
      eq("a", str(((OpResult.GetDataResult) rr.get(0)).getData()), "multiRead getData");
      eq(Arrays.asList("s-0000000000"), ((OpResult.GetChildrenResult) rr.get(1)).getChildren(), "multiRead getChildren");
      eq(Code.NONODE.intValue(), ((OpResult.ErrorResult) rr.get(2)).getErr(), "multiRead missing node");
    });

    check("acl_digest_noauth", () -> {
      String p = r + "/secret";
      ZooKeeper owner = connect(null);
      owner.addAuthInfo("digest", b("u:p"));
      owner.create(p, b("s"), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
      String id = DigestAuthenticationProvider.generateDigest("u:p");
      Stat st = new Stat();
      List<ACL> acl = owner.getACL(p, st);
      eq(Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("digest", id))), acl, "CREATOR_ALL_ACL becomes the digest id");
      eq(0, st.getAversion(), "aversion");
      ZooKeeper other = connect(null);
      expectErr(Code.NOAUTH, "getData without auth", () -> other.getData(p, false, null));
      expectErr(Code.NOAUTH, "setData without auth", () -> other.setData(p, b("x"), -1));
      expectErr(Code.NOAUTH, "create child without auth", () -> other.create(p + "/k", null, OPEN, CreateMode.PERSISTENT));
      expectErr(Code.NOAUTH, "getACL without auth", () -> other.getACL(p, new Stat()));
      expect(other.exists(p, false) != null, "exists needs no permission");
      expectErr(Code.INVALIDACL, "CREATOR_ALL_ACL without auth", () -> other.create(r + "/bad", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
      other.addAuthInfo("digest", b("u:wrong"));
      expectErr(Code.NOAUTH, "getData with wrong password", () -> other.getData(p, false, null));
      other.addAuthInfo("digest", b("u:p"));
      eq("s", str(other.getData(p, false, null)), "getData after auth");
      // setACL with versions: READ for everyone, everything for u
      List<ACL> two = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("digest", id)), new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
      eq(1, owner.setACL(p, two, 0).getAversion(), "aversion after setACL");
      expectErr(Code.BADVERSION, "setACL stale aversion", () -> owner.setACL(p, two, 0));
      ZooKeeper anon = connect(null);
      eq("s", str(anon.getData(p, false, null)), "world READ");
      expectErr(Code.NOAUTH, "world has no WRITE", () -> anon.setData(p, b("x"), -1));
      expectErr(Code.NOAUTH, "world has no CREATE", () -> anon.create(p + "/k", null, OPEN, CreateMode.PERSISTENT));
      owner.close();
      other.close();
      anon.close();
    });

    check("whoami", () -> {
      ZooKeeper z = connect(null);
      List<ClientInfo> before = z.whoAmI();
      eq(1, before.size(), "one identity before auth: " + before);
      eq("ip", before.get(0).getAuthScheme(), "ip scheme");
      eq("127.0.0.1", before.get(0).getUser(), "ip user");
      z.addAuthInfo("digest", b("alice:secret"));
      Set<String> after = new HashSet<>();
      for (ClientInfo ci : z.whoAmI()) after.add(ci.getAuthScheme() + ":" + ci.getUser());
      eq(new HashSet<>(Arrays.asList("ip:127.0.0.1", "digest:alice")), after, "identities after digest auth");
      z.close();
    });

    check("get_all_children_number_and_ephemerals", () -> {
      String p = r + "/tree";
      zk.create(p, null, OPEN, CreateMode.PERSISTENT);
      zk.create(p + "/a", null, OPEN, CreateMode.PERSISTENT);
      zk.create(p + "/a/b", null, OPEN, CreateMode.PERSISTENT);
      zk.create(p + "/a/b/c", null, OPEN, CreateMode.PERSISTENT);
      zk.create(p + "/e1", null, OPEN, CreateMode.EPHEMERAL);
      zk.create(p + "/a/e2", null, OPEN, CreateMode.EPHEMERAL);
      eq(5, zk.getAllChildrenNumber(p), "getAllChildrenNumber");
      eq(0, zk.getAllChildrenNumber(p + "/a/b/c"), "getAllChildrenNumber leaf");
      expectErr(Code.NONODE, "getAllChildrenNumber missing", () -> zk.getAllChildrenNumber(p + "/zz"));
      List<String> eph = zk.getEphemerals(p);
      Collections.sort(eph);
      eq(Arrays.asList(p + "/a/e2", p + "/e1"), eph, "getEphemerals(prefix)");
      List<String> all = zk.getEphemerals();
      expect(all.containsAll(eph) && all.contains(r + "/modes/e"), "getEphemerals(): " + all);
      ZooKeeper z2 = connect(null);
      eq(Collections.emptyList(), z2.getEphemerals(p), "other session owns none");
      z2.close();
    });

    check("sync", () -> {
      CompletableFuture<String> f = new CompletableFuture<>();
      zk.sync(r, (rc, path, ctx) -> f.complete(rc + " " + path + " " + ctx), "ctx");
      eq("0 " + r + " ctx", f.get(5, TimeUnit.SECONDS), "sync callback");
    });

    check("session_close_removes_ephemerals", () -> {
      ZooKeeper z2 = connect(null);
      z2.create(r + "/gone", null, OPEN, CreateMode.EPHEMERAL);
      z2.create(r + "/gone-s-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
      BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
      expect(zk.exists(r + "/gone", q::add) != null, "ephemeral visible to other sessions");
      z2.close();
      event(q, EventType.NodeDeleted, r + "/gone");
      eq(null, zk.exists(r + "/gone", false), "ephemeral removed");
      for (String k : zk.getChildren(r, false)) expect(!k.startsWith("gone-s-"), "ephemeral sequential removed: " + k);
    });

    check("session_expiry_by_duplicate_handle", () -> {
      BlockingQueue<WatchedEvent> ev = new LinkedBlockingQueue<>();
      ZooKeeper z1 = connect(ev::add);
      z1.create(r + "/exp", null, OPEN, CreateMode.EPHEMERAL);
      CountDownLatch dl = new CountDownLatch(1);
      ZooKeeper dup = new ZooKeeper(cs, 10000, e -> { if (e.getState() == KeeperState.SyncConnected) dl.countDown(); },
          z1.getSessionId(), z1.getSessionPasswd());
      handles.add(dup);
      expect(dl.await(20, TimeUnit.SECONDS), "duplicate handle connected");
      eq(z1.getSessionId(), dup.getSessionId(), "same session id");
      dup.close();
      long end = System.currentTimeMillis() + 20000;
      boolean expired = false;
      while (System.currentTimeMillis() < end && !expired) {
        WatchedEvent e = ev.poll(1, TimeUnit.SECONDS);
        if (e != null && e.getState() == KeeperState.Expired) expired = true;
      }
      expect(expired, "Expired event on the first handle");
      eq(null, zk.exists(r + "/exp", false), "ephemeral of expired session removed");
      expectErr(Code.SESSIONEXPIRED, "expired handle is unusable", () -> z1.exists(r, false));
      z1.close();
    });

    check("curator_mutex", () -> {
      CuratorFramework c1 = CuratorFrameworkFactory.newClient(cs, 10000, 10000, new RetryNTimes(3, 200));
      CuratorFramework c2 = CuratorFrameworkFactory.newClient(cs, 10000, 10000, new RetryNTimes(3, 200));
      try {
        c1.start();
        c2.start();
        expect(c1.blockUntilConnected(20, TimeUnit.SECONDS) && c2.blockUntilConnected(20, TimeUnit.SECONDS), "curator connected");
        InterProcessMutex m1 = new InterProcessMutex(c1, r + "/lock");
        InterProcessMutex m2 = new InterProcessMutex(c2, r + "/lock");
        expect(m1.acquire(5, TimeUnit.SECONDS), "first acquire");
        expect(m1.acquire(5, TimeUnit.SECONDS), "re-entrant acquire");
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
          expect(!ex.submit(() -> m2.acquire(500, TimeUnit.MILLISECONDS)).get(10, TimeUnit.SECONDS), "second client blocked while held");
          m1.release();
          expect(!ex.submit(() -> m2.acquire(300, TimeUnit.MILLISECONDS)).get(10, TimeUnit.SECONDS), "still held after one release");
          m1.release();
          expect(ex.submit(() -> m2.acquire(5, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS), "second client acquires after release");
          ex.submit(() -> { m2.release(); return null; }).get(10, TimeUnit.SECONDS);
        } finally {
          ex.shutdownNow();
        }
        eq(Collections.emptyList(), c1.getChildren().forPath(r + "/lock"), "lock nodes cleaned up");
      } finally {
        c1.close();
        c2.close();
      }
    });

    check("curator_leader_latch", () -> {
      CuratorFramework c1 = CuratorFrameworkFactory.newClient(cs, 10000, 10000, new RetryNTimes(3, 200));
      CuratorFramework c2 = CuratorFrameworkFactory.newClient(cs, 10000, 10000, new RetryNTimes(3, 200));
      LeaderLatch l1 = new LeaderLatch(c1, r + "/leader", "one");
      LeaderLatch l2 = new LeaderLatch(c2, r + "/leader", "two");
      try {
        c1.start();
        c2.start();
        l1.start();
        expect(l1.await(10, TimeUnit.SECONDS), "first latch leads");
        l2.start();
        expect(!l2.await(500, TimeUnit.MILLISECONDS), "second latch waits");
        eq("one", l2.getLeader().getId(), "both see leader one");
        l1.close();
        expect(l2.await(10, TimeUnit.SECONDS), "second latch leads after the first closes");
        eq(1, l2.getParticipants().size(), "one participant left");
      } finally {
        try { l2.close(); } catch (Exception e) { }
        c1.close();
        c2.close();
      }
    });

    for (ZooKeeper h : handles) {
      try { h.close(); } catch (Exception e) { }
    }
    zk.close();
    System.out.println(failures == 0 ? "ALL OK" : "FAILURES " + failures);
    System.out.flush();
    System.exit(failures == 0 ? 0 : 1);
  }
}
