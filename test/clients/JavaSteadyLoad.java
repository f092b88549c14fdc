// A steady writer through the Apache ZooKeeper 3.8 Java client, for drills where servers come and
// go under load (rolling migration, whole-ensemble restart). Usage:
//   java JavaSteadyLoad CONNECT SESSION_TIMEOUT_MS STOP_FILE TAG
// Holds one session with an ephemeral /steady-TAG-eph and creates /steady-TAG/n0, n1, ... one at a
// time until STOP_FILE exists. A create that ends in ConnectionLoss is retried (NodeExists on the
// retry means the first attempt landed); every other error is counted. Then it checks that every
// acknowledged create is there and that the session and its ephemeral survived, and prints one
// JSON line. Prints `ready` once the session and its ephemeral exist. Beside it, the same session
// keeps 16 asynchronous setData requests in flight on /steady-TAG-busy, so that the servers see
// concurrent writes too (their errors other than ConnectionLoss are counted as well).
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.zookeeper.*;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.data.Stat;

public class JavaSteadyLoad {
  interface Op<T> { T run() throws Exception; }

  /** Runs `op` until it gets past ConnectionLoss (the client reconnects meanwhile). */
  static <T> T retry(Op<T> op, AtomicInteger losses) throws Exception {
    for (;;) {
      try {
        return op.run();
      } catch (KeeperException.ConnectionLossException e) {
        losses.incrementAndGet();
        Thread.sleep(50);
      }
    }
  }

  /** Creates `path` unless it is there (a retry after ConnectionLoss may find its own create). */
  static void ensure(ZooKeeper zk, String path, CreateMode mode, AtomicInteger losses) throws Exception {
    retry(() -> {
      try {
        return zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, mode);
      } catch (KeeperException.NodeExistsException e) {
        return path;
      }
    }, losses);
  }

  static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public static void main(String[] a) throws Exception {
    String cs = a[0];
    int timeout = Integer.parseInt(a[1]);
    Path stop = Paths.get(a[2]);
    String base = "/steady-" + a[3];
    List<String> states = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean expired = new AtomicBoolean(false);
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(cs, timeout, e -> {
      if (e.getType() != EventType.None) return;
      KeeperState s = e.getState();
      if (states.isEmpty() || !states.get(states.size() - 1).equals(s.name())) states.add(s.name());
      if (s == KeeperState.SyncConnected) connected.countDown();
      if (s == KeeperState.Expired) expired.set(true);
    });
    if (!connected.await(60, TimeUnit.SECONDS)) {
      System.out.println("{\"error\":\"never connected\"}");
      System.exit(1);
    }
    long session = zk.getSessionId();
    AtomicInteger losses = new AtomicInteger();
    ensure(zk, base, CreateMode.PERSISTENT, losses);
    ensure(zk, base + "-eph", CreateMode.EPHEMERAL, losses);
    ensure(zk, base + "-busy", CreateMode.PERSISTENT, losses);
    System.out.println("ready");
    System.out.flush();

    Semaphore inFlight = new Semaphore(16);
    AtomicLong busyOk = new AtomicLong();
    Map<String, Integer> busyErrors = new ConcurrentHashMap<>();
    AtomicBoolean busyStop = new AtomicBoolean(false);
    Thread busy = new Thread(() -> {
      byte[] v = new byte[100];
      while (!busyStop.get()) {
        try {
          if (!zk.getState().isConnected()) {
            Thread.sleep(50); // reconnecting: every request would fail with ConnectionLoss
            continue;
          }
          if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
        } catch (InterruptedException e) {
          return;
        }
        zk.setData(base + "-busy", v, -1, (rc, path, ctx, stat) -> {
          KeeperException.Code c = KeeperException.Code.get(rc);
          if (c == KeeperException.Code.OK) busyOk.incrementAndGet();
          else if (c != KeeperException.Code.CONNECTIONLOSS) busyErrors.merge(c.name(), 1, Integer::sum);
          inFlight.release();
        }, null);
      }
    });
    busy.start();

    byte[] data = new byte[100];
    List<String> acked = new ArrayList<>();
    Map<String, Integer> errors = new TreeMap<>();
    long lastAck = System.nanoTime();
    long longestGapMs = 0;
    int k = 0;
    long t0 = System.nanoTime();
    while (!Files.exists(stop) && !expired.get()) {
      String p = base + "/n" + k;
      boolean ok;
      try {
        zk.create(p, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ok = true;
      } catch (KeeperException.NodeExistsException e) {
        ok = true; // a retry after ConnectionLoss: the first attempt landed
      } catch (KeeperException.ConnectionLossException e) {
        losses.incrementAndGet();
        Thread.sleep(50);
        continue;
      } catch (KeeperException e) {
        errors.merge(e.code().name(), 1, Integer::sum);
        Thread.sleep(50);
        continue;
      }
      if (ok) {
        long now = System.nanoTime();
        longestGapMs = Math.max(longestGapMs, (now - lastAck) / 1_000_000);
        lastAck = now;
        acked.add(p);
        k++;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    busyStop.set(true);
    busy.join();
    inFlight.acquire(16);
    for (Map.Entry<String, Integer> e : busyErrors.entrySet()) errors.merge("busy " + e.getKey(), e.getValue(), Integer::sum);

    List<String> missing = new ArrayList<>();
    boolean ephemeral = false;
    boolean sameSession = zk.getSessionId() == session;
    if (!expired.get()) {
      for (String p : acked) if (retry(() -> zk.exists(p, false), losses) == null) missing.add(p);
      Stat st = retry(() -> zk.exists(base + "-eph", false), losses);
      ephemeral = st != null && st.getEphemeralOwner() == session;
    }
    StringBuilder errs = new StringBuilder();
    for (Map.Entry<String, Integer> e : errors.entrySet()) errs.append(errs.length() > 0 ? "," : "").append(q(e.getKey())).append(':').append(e.getValue());
    StringBuilder sts = new StringBuilder();
    synchronized (states) {
      for (String s : states) sts.append(sts.length() > 0 ? "," : "").append(q(s));
    }
    StringBuilder miss = new StringBuilder();
    for (String p : missing.subList(0, Math.min(10, missing.size()))) miss.append(miss.length() > 0 ? "," : "").append(q(p));
    System.out.println("{\"session\":" + q(Long.toHexString(session)) + ",\"sameSession\":" + sameSession + ",\"expired\":" + expired.get()
        + ",\"acked\":" + acked.size() + ",\"missing\":" + missing.size() + ",\"missingFirst\":[" + miss + "],\"ephemeral\":" + ephemeral
        + ",\"busySetData\":" + busyOk.get() + ",\"errors\":{" + errs + "},\"connectionLosses\":" + losses.get() + ",\"longestGapMs\":" + longestGapMs
        + ",\"seconds\":" + String.format(Locale.ROOT, "%.1f", seconds) + ",\"states\":[" + sts + "]}");
    System.out.flush();
    zk.close();
    System.exit(0);
  }
}
