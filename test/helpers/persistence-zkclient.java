// Test helper (run with `java -cp <zookeeper jars> persistence-zkclient.java <mode> <host:port>`):
//   populate: create a tree of every node kind through the real ZooKeeper client; leaves one session open
//   dump:     print every node as `path \t hexdata|null \t stat \t acls`
import java.util.*;
import java.util.concurrent.*;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class PersistenceZkClient {
  static ZooKeeper connect(String cs, int timeout) throws Exception {
    CountDownLatch l = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(cs, timeout, e -> { if (e.getState() == Watcher.Event.KeeperState.SyncConnected) l.countDown(); });
    if (!l.await(30, TimeUnit.SECONDS)) throw new RuntimeException("no connection to " + cs);
    zk.addAuthInfo("digest", "bob:secret".getBytes());
    return zk;
  }
  static String hex(byte[] b) {
    if (b == null) return "null";
    StringBuilder sb = new StringBuilder();
    for (byte x : b) sb.append(String.format("%02x", x));
    return sb.toString();
  }
  static void dump(ZooKeeper zk, String p) throws Exception {
    Stat s = new Stat();
    byte[] d = zk.getData(p, false, s);
    List<ACL> acl = zk.getACL(p, new Stat());
    StringBuilder a = new StringBuilder();
    for (ACL x : acl) a.append(x.getPerms()).append(',').append(x.getId().getScheme()).append(',').append(x.getId().getId()).append(';');
    System.out.println(p + "\t" + hex(d) + "\t" + s.getCzxid() + "," + s.getMzxid() + "," + s.getCtime() + "," + s.getMtime() + ","
        + s.getVersion() + "," + s.getCversion() + "," + s.getAversion() + "," + s.getEphemeralOwner() + "," + s.getDataLength() + ","
        + s.getNumChildren() + "," + s.getPzxid() + "\t" + a);
    List<String> kids = new ArrayList<>(zk.getChildren(p, false));
    Collections.sort(kids);
    for (String k : kids) dump(zk, p.equals("/") ? "/" + k : p + "/" + k);
  }
  public static void main(String[] args) throws Exception {
    String mode = args[0], cs = args[1];
    if (mode.equals("dump")) {
      ZooKeeper zk = connect(cs, 30000);
      dump(zk, "/");
      zk.close();
      return;
    }
    List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    String digest = DigestAuthenticationProvider.generateDigest("bob:secret");
    List<ACL> secret = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)), new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
    ZooKeeper zk = connect(cs, 30000);
    zk.create("/x", "y".getBytes(), open, CreateMode.PERSISTENT);
    zk.create("/a", new byte[0], open, CreateMode.PERSISTENT);
    zk.create("/a/b", "bee".getBytes(), open, CreateMode.PERSISTENT);
    zk.create("/a/b/c", null, open, CreateMode.PERSISTENT);
    zk.create("/a/seq-", "1".getBytes(), open, CreateMode.PERSISTENT_SEQUENTIAL);
    zk.create("/a/seq-", "2".getBytes(), open, CreateMode.PERSISTENT_SEQUENTIAL);
    zk.create("/acl", "secret".getBytes(), secret, CreateMode.PERSISTENT);
    zk.setData("/x", "y2".getBytes(), -1);
    zk.setACL("/a/b", Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("ip", "127.0.0.1")), new ACL(ZooDefs.Perms.READ, new Id("world", "anyone"))), -1);
    zk.create("/cont", "c".getBytes(), open, CreateMode.CONTAINER);
    zk.create("/cont/child", "cc".getBytes(), open, CreateMode.PERSISTENT);
    zk.create("/ttl", "t".getBytes(), open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3600000L);
    zk.multi(Arrays.asList(Op.create("/m1", "m".getBytes(), open, CreateMode.PERSISTENT), Op.setData("/m1", "m2".getBytes(), 0), Op.check("/x", 1)));
    try {
      zk.multi(Arrays.asList(Op.create("/m2", null, open, CreateMode.PERSISTENT), Op.create("/x", null, open, CreateMode.PERSISTENT)));
    } catch (KeeperException e) { /* expected NODEEXISTS */ }
    zk.create("/del", "d".getBytes(), open, CreateMode.PERSISTENT);
    zk.delete("/del", -1);
    zk.create("/e1", "gone".getBytes(), open, CreateMode.EPHEMERAL);
    ZooKeeper zk2 = connect(cs, 40000);
    zk2.create("/eph", "e".getBytes(), open, CreateMode.EPHEMERAL);
    zk2.create("/eph-", "e2".getBytes(), open, CreateMode.EPHEMERAL_SEQUENTIAL);
    zk.close();
    System.out.println("SESSION2 " + Long.toHexString(zk2.getSessionId()));
    System.out.flush();
    Runtime.getRuntime().halt(0); // leave zk2's session open
  }
}
