// Holds one session of the Apache ZooKeeper 3.8 Java client on one server while the client pings
// it, with one ephemeral znode, for a given time; then reports what happened to the session.
// Used by test/session-keepalive.test.ts.
// Usage: java JavaKeepalive HOST:PORT TIMEOUT_MS HOLD_MS PATH
// Prints one JSON line: {"session":"0x..","states":[...],"exists":bool,"owner":"0x..",
//   "sameSession":bool,"error":null|"..."}; exit 0 if it ran to the end, 1 otherwise.
import java.util.*;
import java.util.concurrent.*;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.Stat;

public class JavaKeepalive {
  public static void main(String[] a) throws Exception {
    String cs = a[0];
    int timeout = Integer.parseInt(a[1]);
    long hold = Long.parseLong(a[2]);
    String path = a[3];
    List<String> states = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch connected = new CountDownLatch(1);
    String session = null, owner = null, error = null;
    boolean exists = false, same = false;
    List<String> seen = new ArrayList<>();
    ZooKeeper zk = new ZooKeeper(cs, timeout, e -> {
      if (e.getType() == Watcher.Event.EventType.None) {
        states.add(e.getState().toString());
        if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
      }
    });
    try {
      if (!connected.await(15, TimeUnit.SECONDS)) throw new RuntimeException("not connected in 15 s");
      long sid = zk.getSessionId();
      session = "0x" + Long.toHexString(sid);
      zk.create(path, new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
      Thread.sleep(hold);
      Stat st = zk.exists(path, false);
      exists = st != null;
      owner = st == null ? null : "0x" + Long.toHexString(st.getEphemeralOwner());
      same = zk.getSessionId() == sid;
      synchronized (states) { seen.addAll(states); } // before close(), which adds Closed
    } catch (Exception e) {
      error = e.toString();
    } finally {
      zk.close();
    }
    StringBuilder sb = new StringBuilder("{\"session\":").append(q(session)).append(",\"states\":[");
    if (error != null) synchronized (states) { seen = new ArrayList<>(states); }
    for (int i = 0; i < seen.size(); i++) sb.append(i > 0 ? "," : "").append(q(seen.get(i)));
    sb.append("],\"exists\":").append(exists).append(",\"owner\":").append(q(owner))
      .append(",\"sameSession\":").append(same).append(",\"error\":").append(q(error)).append("}");
    System.out.println(sb);
    System.exit(error == null ? 0 : 1);
  }

  static String q(String s) {
    return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
