// Drives zk-server with the real Java client and Curator (Debian packages); prints OK/FAIL per check.
import java.util.*;
import java.util.concurrent.*;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;
import org.apache.curator.framework.*;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;

public class JavaClientCheck {
  static int failures = 0;
  interface Check { void run() throws Exception; }
  static void check(String name, Check c) {
    try { c.run(); System.out.println("OK " + name); }
    catch (Throwable t) { failures++; System.out.println("FAIL " + name + ": " + t); }
  }
  static void expect(boolean b, String what) { if (!b) throw new AssertionError(what); }
  static ZooKeeper connect(String cs) throws Exception {
    CountDownLatch l = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(cs, 10000, e -> { if (e.getState() == Watcher.Event.KeeperState.SyncConnected) l.countDown(); });
    if (!l.await(20, TimeUnit.SECONDS)) throw new RuntimeException("no connection");
    return zk;
  }
  public static void main(String[] a) throws Exception {
    String cs = a[0];
    List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    ZooKeeper zk = connect(cs);
    String r = "/java-" + System.nanoTime();
    check("create_modes", () -> {
      zk.create(r, "root".getBytes(), open, CreateMode.PERSISTENT);
      expect(zk.create(r + "/s-", null, open, CreateMode.PERSISTENT_SEQUENTIAL).equals(r + "/s-0000000000"), "sequential name");
      Stat st = new Stat();
      zk.create(r + "/e", null, open, CreateMode.EPHEMERAL, st);
      expect(st.getEphemeralOwner() == zk.getSessionId(), "ephemeral owner");
      zk.create(r + "/c", null, open, CreateMode.CONTAINER);
      zk.create(r + "/t", null, open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60000);
    });
    check("versions", () -> {
      Stat st = zk.setData(r, "v1".getBytes(), 0);
      expect(st.getVersion() == 1, "version 1");
      try { zk.setData(r, "v2".getBytes(), 0); throw new AssertionError("no BadVersion"); } catch (KeeperException.BadVersionException e) { }
      expect(new String(zk.getData(r, false, null)).equals("v1"), "data");
    });
    check("watches", () -> {
      BlockingQueue<WatchedEvent> q = new LinkedBlockingQueue<>();
      zk.exists(r + "/w", q::add);
      zk.create(r + "/w", null, open, CreateMode.PERSISTENT);
      WatchedEvent e = q.poll(5, TimeUnit.SECONDS);
      expect(e != null && e.getType() == Watcher.Event.EventType.NodeCreated, "NodeCreated");
      zk.getChildren(r + "/w", q::add);
      zk.create(r + "/w/k", null, open, CreateMode.PERSISTENT);
      e = q.poll(5, TimeUnit.SECONDS);
      expect(e != null && e.getType() == Watcher.Event.EventType.NodeChildrenChanged, "NodeChildrenChanged");
      BlockingQueue<WatchedEvent> rq = new LinkedBlockingQueue<>();
      zk.addWatch(r + "/w", rq::add, AddWatchMode.PERSISTENT_RECURSIVE);
      zk.setData(r + "/w/k", "x".getBytes(), -1);
      e = rq.poll(5, TimeUnit.SECONDS);
      expect(e != null && e.getType() == Watcher.Event.EventType.NodeDataChanged && e.getPath().equals(r + "/w/k"), "recursive");
    });
    check("multi", () -> {
      List<OpResult> res = zk.multi(Arrays.asList(Op.create(r + "/m", null, open, CreateMode.PERSISTENT), Op.check(r + "/m", 0)));
      expect(res.size() == 2, "two results");
      try {
        zk.multi(Arrays.asList(Op.create(r + "/m2", null, open, CreateMode.PERSISTENT), Op.delete(r + "/none", -1)));
        throw new AssertionError("multi did not fail");
      } catch (KeeperException e) {
        List<OpResult> rs = e.getResults();
        expect(((OpResult.ErrorResult) rs.get(0)).getErr() == 0, "first 0");
        expect(((OpResult.ErrorResult) rs.get(1)).getErr() == KeeperException.Code.NONODE.intValue(), "second NONODE");
      }
      expect(zk.exists(r + "/m2", false) == null, "nothing applied");
    });
    check("acl_digest", () -> {
      ZooKeeper other = connect(cs);
      zk.addAuthInfo("digest", "u:p".getBytes());
      zk.create(r + "/secret", "s".getBytes(), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
      try { other.getData(r + "/secret", false, null); throw new AssertionError("no NoAuth"); } catch (KeeperException.NoAuthException e) { }
      other.close();
    });
    check("misc_ops", () -> {
      expect(zk.getAllChildrenNumber(r) >= 5, "getAllChildrenNumber");
      expect(zk.getEphemerals(r).contains(r + "/e"), "getEphemerals");
      expect(!zk.whoAmI().isEmpty(), "whoAmI");
      CountDownLatch l = new CountDownLatch(1);
      zk.sync(r, (rc, p, ctx) -> l.countDown(), null);
      expect(l.await(5, TimeUnit.SECONDS), "sync");
    });
    check("session_close_removes_ephemerals", () -> {
      ZooKeeper z2 = connect(cs);
      z2.create(r + "/gone", null, open, CreateMode.EPHEMERAL);
      z2.close();
      expect(zk.exists(r + "/gone", false) == null, "ephemeral removed");
    });
    check("session_expiry_by_duplicate_handle", () -> {
      BlockingQueue<WatchedEvent> ev = new LinkedBlockingQueue<>();
      ZooKeeper z1 = new ZooKeeper(cs, 6000, ev::add);
      while (z1.getState() != ZooKeeper.States.CONNECTED) Thread.sleep(20);
      ZooKeeper dup = new ZooKeeper(cs, 6000, e -> { }, z1.getSessionId(), z1.getSessionPasswd());
      while (dup.getState() != ZooKeeper.States.CONNECTED) Thread.sleep(20);
      dup.close();
      long end = System.currentTimeMillis() + 15000;
      boolean expired = false;
      while (System.currentTimeMillis() < end && !expired) {
        WatchedEvent e = ev.poll(1, TimeUnit.SECONDS);
        if (e != null && e.getState() == Watcher.Event.KeeperState.Expired) expired = true;
      }
      expect(expired, "Expired event");
      z1.close();
    });
    check("curator_mutex", () -> {
      CuratorFramework cf = CuratorFrameworkFactory.newClient(cs, new RetryOneTime(100));
      cf.start();
      cf.blockUntilConnected(10, TimeUnit.SECONDS);
      InterProcessMutex m = new InterProcessMutex(cf, r + "/lock");
      expect(m.acquire(5, TimeUnit.SECONDS), "acquire");
      m.release();
      cf.close();
    });
    zk.close();
    System.out.println(failures == 0 ? "ALL OK" : "FAILURES " + failures);
    System.exit(failures == 0 ? 0 : 1);
  }
}
