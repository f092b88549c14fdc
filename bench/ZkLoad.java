// Load generator for bench/matrix.js: drives any ZooKeeper-compatible ensemble through the Apache
// ZooKeeper Java client's asynchronous API, so both systems compared face the very same client.
// Compiled by bench/matrix.js with javac at run time (classpath: the Debian libzookeeper-java jars).
//
//   java -cp <classes>:<zookeeper jars> ZkLoad --connect h:p[,h:p...] --cells create:1,get:16,...
//        [--sessions 6] [--duration 5] [--warmup 1] [--size 100] [--pool 1000]
//        [--watch-znodes 8] [--churn-loops 4] [--eph-per-session 2]
//        [--server-pids PID,PID,...] [--clk-tck 100]
//
// --server-pids: the servers' processes; their utime + stime from /proc/PID/stat, summed, read at
// the start and end of each cell's measured window, go out as server_cpu_s (seconds, using
// --clk-tck ticks per second, from `getconf CLK_TCK`).
// Prints one JSON line per cell on stdout. A cell is WORKLOAD:OUTSTANDING with WORKLOAD one of
//   create  persistent znodes of --size bytes
//   set     setData of --size bytes on a pool of --pool znodes
//   get     getData on that pool (the bytes read must be the bytes written)
//   mixed   90 % getData, 10 % setData on the pool
//   watch   notification latency: one writer session sets --watch-znodes znodes, every load
//           session holds a data watch on each; latency = from just before setData to the
//           NodeDataChanged event at a watcher; a znode is set again once every watcher re-armed
//   churn   --churn-loops threads each loop: open a session, create --eph-per-session ephemerals,
//           close; latency = one whole session lifecycle (ops = sessions)
// Load session k connects to server k mod N of the connect string only, so load spreads evenly.
// OUTSTANDING = requests each session keeps in flight (ignored by watch and churn).
// A completion counts when it lands inside the measured window (after the warm-up); latencies are
// exact (every sample kept and sorted). Errors: every failed or wrong completion, request left
// unanswered, or Disconnected/Expired event, in warm-up, window or drain.
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Stat;

public class ZkLoad {
    static String[] servers;
    static int sessions = 6, size = 100, pool = 1000, watchZnodes = 8, churnLoops = 4, ephPerSession = 2;
    static long durationMs = 5000, warmupMs = 1000;
    static final int SESSION_TIMEOUT = 30000;

    // ---- per-cell state ----
    static final int OP_MAIN = 0, OP_GET = 1, OP_SET = 2, OP_NOTIFY = 3, OP_CONNECT = 4, OP_CREATE = 5, OP_CLOSE = 6;
    static final String[] OP_NAMES = {"main", "get", "set", "notify", "connect", "create", "close"};
    static volatile int phase; // 0 warm-up, 1 measuring, 2 stopping
    static final AtomicLong errors = new AtomicLong();
    static final Map<String, AtomicLong> errorCodes = new ConcurrentHashMap<>();
    static final AtomicLong inFlight = new AtomicLong();
    static final List<Samples> allSamples = java.util.Collections.synchronizedList(new ArrayList<>());
    static volatile boolean closing;

    /** Latency samples (ns) of one op kind, written by one thread at a time. */
    static final class Samples {
        final int op;
        long[] a = new long[1 << 14];
        int n;
        Samples(int op) { this.op = op; allSamples.add(this); }
        synchronized void add(long ns) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = ns;
        }
    }

    static void error(String code) {
        errors.incrementAndGet();
        errorCodes.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
    }

    static void errorRc(int rc) { error(KeeperException.Code.get(rc).name()); }

    static String quote(String s) { return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""; }

    static final Watcher SESSION_WATCHER = ev -> {
        if (ev.getType() != Watcher.Event.EventType.None || closing) return;
        Watcher.Event.KeeperState st = ev.getState();
        if (st == Watcher.Event.KeeperState.Disconnected || st == Watcher.Event.KeeperState.Expired) error("session-" + st);
    };

    static ZooKeeper connect(String connectString, ZKClientConfig cfg) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        Watcher w = ev -> {
            if (ev.getType() == Watcher.Event.EventType.None && ev.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
            SESSION_WATCHER.process(ev);
        };
        ZooKeeper zk = cfg == null ? new ZooKeeper(connectString, SESSION_TIMEOUT, w) : new ZooKeeper(connectString, SESSION_TIMEOUT, w, cfg);
        if (!up.await(15, TimeUnit.SECONDS)) {
            zk.close();
            throw new IllegalStateException("could not connect to " + connectString);
        }
        return zk;
    }

    static ZooKeeper[] openSessions(int count) throws Exception {
        ZooKeeper[] zks = new ZooKeeper[count];
        for (int k = 0; k < count; k++) zks[k] = connect(servers[k % servers.length], null);
        return zks;
    }

    static void closeAll(ZooKeeper[] zks) throws InterruptedException {
        closing = true;
        List<Thread> ts = new ArrayList<>();
        for (ZooKeeper zk : zks) {
            if (zk == null) continue;
            Thread t = new Thread(() -> { try { zk.close(); } catch (InterruptedException e) { /* exiting */ } });
            t.start();
            ts.add(t);
        }
        for (Thread t : ts) t.join();
    }

    static void mkdir(ZooKeeper zk, String path) throws Exception {
        try {
            zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) { /* fine */ }
    }

    /** Every session syncs, so all of them see the setup before the load starts. */
    static void syncAll(ZooKeeper[] zks, String path) throws InterruptedException {
        CountDownLatch l = new CountDownLatch(zks.length);
        for (ZooKeeper zk : zks) zk.sync(path, (rc, p, c) -> { if (rc != 0) errorRc(rc); l.countDown(); }, null);
        if (!l.await(30, TimeUnit.SECONDS)) error("sync-timeout");
    }

    static void createPool(ZooKeeper zk, String dir, byte[] data) throws InterruptedException {
        CountDownLatch l = new CountDownLatch(pool);
        for (int i = 0; i < pool; i++) {
            zk.create(dir + "/p" + i, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, p, c, name) -> { if (rc != 0) errorRc(rc); l.countDown(); }, null);
        }
        if (!l.await(60, TimeUnit.SECONDS)) error("setup-timeout");
    }

    // ---- request-loop workloads: create, set, get, mixed ----
    static final class Loop {
        final ZooKeeper zk;
        final String dir, sessionTag;
        final String workload;
        final byte[] data;
        final Samples main = new Samples(OP_MAIN), get, set;
        long seq;

        Loop(ZooKeeper zk, String dir, String tag, String workload, byte[] data) {
            this.zk = zk; this.dir = dir; this.sessionTag = tag; this.workload = workload; this.data = data;
            boolean mixed = workload.equals("mixed");
            get = mixed ? new Samples(OP_GET) : null;
            set = mixed ? new Samples(OP_SET) : null;
        }

        void record(Samples s, long t0) {
            if (phase == 1) {
                long d = System.nanoTime() - t0;
                main.add(d);
                if (s != null) s.add(d);
            }
        }

        void done() {
            inFlight.decrementAndGet();
            if (phase < 2) issue();
        }

        void issue() {
            inFlight.incrementAndGet();
            final long t0 = System.nanoTime();
            switch (workload) {
                case "create": {
                    final String path = dir + "/" + sessionTag + "-" + (seq++);
                    zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, p, c, name) -> {
                        if (rc != 0) errorRc(rc);
                        else if (!path.equals(name)) error("wrong-name");
                        else record(null, t0);
                        done();
                    }, null);
                    break;
                }
                case "set":
                    setOne(t0, null);
                    break;
                case "get":
                    getOne(t0, null);
                    break;
                case "mixed":
                    if (ThreadLocalRandom.current().nextInt(100) < 90) getOne(t0, get);
                    else setOne(t0, set);
                    break;
                default:
                    throw new IllegalArgumentException(workload);
            }
        }

        void setOne(long t0, Samples s) {
            String path = dir + "/p" + ThreadLocalRandom.current().nextInt(pool);
            zk.setData(path, data, -1, (rc, p, c, stat) -> {
                if (rc != 0) errorRc(rc);
                else if (stat == null) error("no-stat");
                else record(s, t0);
                done();
            }, null);
        }

        void getOne(long t0, Samples s) {
            String path = dir + "/p" + ThreadLocalRandom.current().nextInt(pool);
            zk.getData(path, false, (rc, p, c, bytes, stat) -> {
                if (rc != 0) errorRc(rc);
                else if (!Arrays.equals(bytes, data)) error("wrong-data");
                else record(s, t0);
                done();
            }, null);
        }
    }

    static long runLoops(ZooKeeper[] zks, String dir, String workload, int outstanding, byte[] data) throws Exception {
        Loop[] loops = new Loop[zks.length];
        for (int k = 0; k < zks.length; k++) loops[k] = new Loop(zks[k], dir, "s" + k, workload, data);
        for (Loop l : loops) for (int i = 0; i < outstanding; i++) l.issue();
        return window();
    }

    /** Warm-up, measured window, stop; returns the measured window in ns. */
    static long window() throws InterruptedException {
        Thread.sleep(warmupMs);
        long start = System.nanoTime();
        long cpu0 = serverCpuTicks();
        phase = 1;
        Thread.sleep(durationMs);
        phase = 2;
        long cpu1 = serverCpuTicks();
        windowServerTicks = cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
        return System.nanoTime() - start;
    }

    /** the servers' processes (--server-pids), whose CPU time the measured window counts */
    static long[] serverPids = new long[0];
    /** clock ticks per second of /proc/PID/stat (--clk-tck, from getconf CLK_TCK) */
    static long clkTck = 100;
    /** the servers' CPU time in the last measured window, in clock ticks; -1 = unknown */
    static long windowServerTicks = -1;

    /** utime + stime of every server process, summed (clock ticks), or -1 if one cannot be read. */
    static long serverCpuTicks() {
        if (serverPids.length == 0) return -1;
        long sum = 0;
        for (long pid : serverPids) {
            try {
                String stat = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/" + pid + "/stat")), java.nio.charset.StandardCharsets.US_ASCII);
                // the fields after the command name, which is in parentheses and may hold spaces
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                sum += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            } catch (Exception e) {
                return -1;
            }
        }
        return sum;
    }

    static void drain() throws InterruptedException {
        long end = System.currentTimeMillis() + 20000;
        while (inFlight.get() > 0 && System.currentTimeMillis() < end) Thread.sleep(5);
        long left = inFlight.get();
        for (long i = 0; i < left; i++) error("unanswered");
    }

    // ---- watch ----
    static long runWatch(ZooKeeper[] watchers, ZooKeeper writer, String dir, byte[] data) throws Exception {
        final int n = watchZnodes, w = watchers.length;
        final String[] paths = new String[n];
        final java.util.concurrent.atomic.AtomicLongArray setAt = new java.util.concurrent.atomic.AtomicLongArray(n);
        final AtomicInteger[] armed = new AtomicInteger[n];
        final Samples setSamples = new Samples(OP_SET);
        final Samples[] notify = new Samples[w];
        for (int i = 0; i < n; i++) {
            paths[i] = dir + "/w" + i;
            armed[i] = new AtomicInteger();
            writer.create(paths[i], data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        syncAll(watchers, dir);
        final java.util.function.IntConsumer[] fire = new java.util.function.IntConsumer[1];
        fire[0] = i -> {
            if (phase >= 2) return;
            inFlight.incrementAndGet();
            final long t0 = System.nanoTime();
            setAt.set(i, t0);
            writer.setData(paths[i], data, -1, (rc, p, c, stat) -> {
                if (rc != 0) errorRc(rc);
                else if (phase == 1) setSamples.add(System.nanoTime() - t0);
                inFlight.decrementAndGet();
            }, null);
        };
        final java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) index.put(paths[i], i);
        final Watcher[] dataWatchers = new Watcher[w];
        final AsyncCallback.DataCallback[] armedCb = new AsyncCallback.DataCallback[w];
        for (int k = 0; k < w; k++) {
            final int kk = k;
            notify[k] = new Samples(OP_NOTIFY);
            armedCb[k] = (rc, p, c, bytes, stat) -> {
                inFlight.decrementAndGet();
                if (rc != 0) { errorRc(rc); return; }
                int i = index.get(p);
                if (armed[i].incrementAndGet() == w) {
                    armed[i].set(0);
                    fire[0].accept(i);
                }
            };
            dataWatchers[k] = ev -> {
                if (ev.getType() != Watcher.Event.EventType.NodeDataChanged) {
                    if (ev.getType() != Watcher.Event.EventType.None) error("watch-" + ev.getType());
                    return;
                }
                Integer i = index.get(ev.getPath());
                if (i == null) { error("watch-path"); return; }
                long now = System.nanoTime();
                if (phase == 1) notify[kk].add(now - setAt.get(i));
                if (phase >= 2) return;
                inFlight.incrementAndGet();
                watchers[kk].getData(ev.getPath(), dataWatchers[kk], armedCb[kk], null);
            };
        }
        for (int k = 0; k < w; k++) {
            for (int i = 0; i < n; i++) {
                inFlight.incrementAndGet();
                watchers[k].getData(paths[i], dataWatchers[k], armedCb[k], null);
            }
        }
        return window();
    }

    // ---- churn ----
    static long runChurn(String dir, ZooKeeper checker) throws Exception {
        ZKClientConfig cfg = new ZKClientConfig();
        // Churned sessions use the Netty transport: the NIO client's close() spends ~200 ms (p50,
        // measured against either server) on its own side after closeSession, which would hide the
        // servers' cost; -Dzkload.churnSocket=nio shows it. Other workloads use the default NIO client.
        if (!"nio".equals(System.getProperty("zkload.churnSocket")))
            cfg.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        byte[] data = new byte[size];
        List<Thread> threads = new ArrayList<>();
        final int loops = churnLoops;
        for (int t = 0; t < loops; t++) {
            final int tt = t;
            final Samples life = new Samples(OP_MAIN), conn = new Samples(OP_CONNECT), crt = new Samples(OP_CREATE), cls = new Samples(OP_CLOSE);
            Thread th = new Thread(() -> {
                long seq = 0;
                while (phase < 2) {
                    long t0 = System.nanoTime();
                    CountDownLatch up = new CountDownLatch(1);
                    Watcher sw = ev -> {
                        if (ev.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
                        else if (ev.getState() == Watcher.Event.KeeperState.Expired) error("session-Expired");
                    };
                    ZooKeeper zk;
                    try {
                        zk = new ZooKeeper(servers[tt % servers.length], SESSION_TIMEOUT, sw, cfg);
                    } catch (Exception e) { error("connect-" + e.getClass().getSimpleName()); continue; }
                    try {
                        if (zk.getState() != ZooKeeper.States.CONNECTED && !up.await(15, TimeUnit.SECONDS)) {
                            error("connect-timeout");
                            zk.close();
                            continue;
                        }
                        long t1 = System.nanoTime();
                        CountDownLatch made = new CountDownLatch(ephPerSession);
                        boolean[] ok = {true};
                        for (int e = 0; e < ephPerSession; e++) {
                            String path = dir + "/t" + tt + "-" + seq + "-" + e;
                            zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, (rc, p, c, name) -> {
                                if (rc != 0) { errorRc(rc); ok[0] = false; }
                                made.countDown();
                            }, null);
                        }
                        seq++;
                        if (!made.await(30, TimeUnit.SECONDS)) { error("create-timeout"); ok[0] = false; }
                        long t2 = System.nanoTime();
                        zk.close();
                        long t3 = System.nanoTime();
                        if (ok[0] && phase == 1) {
                            life.add(t3 - t0);
                            conn.add(t1 - t0);
                            crt.add(t2 - t1);
                            cls.add(t3 - t2);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        long ns = window();
        for (Thread th : threads) th.join();
        // every churned session is closed: none of its ephemerals may be left
        CountDownLatch l = new CountDownLatch(1);
        checker.sync(dir, (rc, p, c) -> l.countDown(), null);
        l.await(30, TimeUnit.SECONDS);
        int left = checker.getChildren(dir, false).size();
        for (int i = 0; i < left; i++) error("ephemeral-left");
        return ns;
    }

    // ---- one cell ----
    static String runCell(String root, int cellNo, String workload, int outstanding) throws Exception {
        phase = 0;
        closing = false;
        errors.set(0);
        errorCodes.clear();
        inFlight.set(0);
        allSamples.clear();
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte) ('a' + (i + cellNo) % 26);
        String dir = root + "/" + cellNo + "-" + workload + "-" + outstanding;

        OperatingSystemCpu cpu = new OperatingSystemCpu();
        ZooKeeper[] zks = openSessions(sessions);
        ZooKeeper writer = null;
        long windowNs;
        int sessionsUsed = sessions;
        try {
            mkdir(zks[0], dir);
            long cpu0;
            switch (workload) {
                case "create":
                    syncAll(zks, dir);
                    cpu0 = cpu.now();
                    windowNs = runLoops(zks, dir, workload, outstanding, data);
                    break;
                case "set": case "get": case "mixed":
                    createPool(zks[0], dir, data);
                    syncAll(zks, dir);
                    cpu0 = cpu.now();
                    windowNs = runLoops(zks, dir, workload, outstanding, data);
                    break;
                case "watch":
                    writer = connect(servers[0], null);
                    cpu0 = cpu.now();
                    windowNs = runWatch(zks, writer, dir, data);
                    outstanding = watchZnodes;
                    break;
                case "churn":
                    cpu0 = cpu.now();
                    windowNs = runChurn(dir, zks[0]);
                    sessionsUsed = churnLoops;
                    outstanding = 1;
                    break;
                default:
                    throw new IllegalArgumentException("unknown workload " + workload);
            }
            long cpuUsed = cpu.now() - cpu0; // window + warm-up (+ churn's check)
            drain();
            return report(workload, sessionsUsed, outstanding, windowNs, cpuUsed, windowNs + warmupMs * 1000000L);
        } finally {
            closeAll(writer == null ? zks : concat(zks, writer));
        }
    }

    static ZooKeeper[] concat(ZooKeeper[] a, ZooKeeper b) {
        ZooKeeper[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = b;
        return r;
    }

    static final class OperatingSystemCpu {
        final java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        long now() {
            if (os instanceof com.sun.management.OperatingSystemMXBean) return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
            return 0;
        }
    }

    static String stats(long[] a, int n, long windowNs) {
        Arrays.sort(a, 0, n);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += a[i];
        return String.format(java.util.Locale.ROOT,
                "\"count\":%d,\"ops_per_sec\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f",
                n, n / (windowNs / 1e9), pct(a, n, 0.5), pct(a, n, 0.9), pct(a, n, 0.99), pct(a, n, 0.999),
                n == 0 ? 0.0 : a[n - 1] / 1000.0, n == 0 ? 0.0 : sum / n / 1000.0);
    }

    static double pct(long[] a, int n, double q) {
        if (n == 0) return 0;
        int i = (int) Math.ceil(q * n) - 1;
        return a[Math.max(0, Math.min(n - 1, i))] / 1000.0;
    }

    static String report(String workload, int sess, int outstanding, long windowNs, long cpuNs, long cpuWindowNs) {
        // the headline figures: notifications for watch, whole sessions for churn, else every op
        int headOp = workload.equals("watch") ? OP_NOTIFY : OP_MAIN;
        Map<Integer, long[]> merged = new TreeMap<>();
        Map<Integer, Integer> counts = new TreeMap<>();
        synchronized (allSamples) {
            for (Samples s : allSamples) {
                long[] cur = merged.getOrDefault(s.op, new long[0]);
                int c = counts.getOrDefault(s.op, 0);
                long[] nw = Arrays.copyOf(cur, c + s.n);
                System.arraycopy(s.a, 0, nw, c, s.n);
                merged.put(s.op, nw);
                counts.put(s.op, c + s.n);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("{\"workload\":").append(quote(workload)).append(",\"sessions\":").append(sess)
          .append(",\"outstanding\":").append(outstanding).append(",\"servers\":").append(servers.length)
          .append(",\"window_s\":").append(String.format(java.util.Locale.ROOT, "%.3f", windowNs / 1e9)).append(',');
        long[] head = merged.getOrDefault(headOp, new long[0]);
        sb.append(stats(head, head.length, windowNs));
        sb.append(",\"errors\":").append(errors.get()).append(",\"error_codes\":{");
        boolean first = true;
        for (Map.Entry<String, AtomicLong> e : new TreeMap<>(errorCodes).entrySet()) {
            if (!first) sb.append(',');
            first = false;
            sb.append(quote(e.getKey())).append(':').append(e.getValue().get());
        }
        sb.append("},\"by_op\":{");
        first = true;
        for (Map.Entry<Integer, long[]> e : merged.entrySet()) {
            if (e.getKey() == headOp) continue;
            if (e.getKey() == OP_MAIN && headOp != OP_MAIN) continue;
            if (!first) sb.append(',');
            first = false;
            sb.append(quote(OP_NAMES[e.getKey()])).append(":{").append(stats(e.getValue(), e.getValue().length, windowNs)).append('}');
        }
        sb.append("},\"client_cpu_pct\":").append(String.format(java.util.Locale.ROOT, "%.1f", 100.0 * cpuNs / cpuWindowNs));
        if (windowServerTicks >= 0) sb.append(",\"server_cpu_s\":").append(String.format(java.util.Locale.ROOT, "%.2f", (double) windowServerTicks / clkTck));
        sb.append('}');
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        String connect = null, cells = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--connect": connect = v; i++; break;
                case "--cells": cells = v; i++; break;
                case "--sessions": sessions = Integer.parseInt(v); i++; break;
                case "--duration": durationMs = (long) (Double.parseDouble(v) * 1000); i++; break;
                case "--warmup": warmupMs = (long) (Double.parseDouble(v) * 1000); i++; break;
                case "--size": size = Integer.parseInt(v); i++; break;
                case "--pool": pool = Integer.parseInt(v); i++; break;
                case "--watch-znodes": watchZnodes = Integer.parseInt(v); i++; break;
                case "--churn-loops": churnLoops = Integer.parseInt(v); i++; break;
                case "--eph-per-session": ephPerSession = Integer.parseInt(v); i++; break;
                case "--server-pids": serverPids = java.util.Arrays.stream(v.split(",")).mapToLong(Long::parseLong).toArray(); i++; break;
                case "--clk-tck": clkTck = Long.parseLong(v); i++; break;
                default: System.err.println("unknown option " + a); System.exit(1);
            }
        }
        if (connect == null || cells == null) {
            System.err.println("usage: ZkLoad --connect h:p[,h:p] --cells workload:outstanding[,...] [options]");
            System.exit(1);
        }
        servers = connect.split(",");
        String root = "/zkload-" + Long.toString(System.currentTimeMillis(), 36);
        ZooKeeper admin = connect(servers[0], null);
        mkdir(admin, root);
        admin.close();
        int cellNo = 0;
        int failed = 0;
        for (String cell : cells.split(",")) {
            String[] wo = cell.trim().split(":");
            int outstanding = wo.length > 1 ? Integer.parseInt(wo[1]) : 1;
            try {
                System.out.println(runCell(root, cellNo++, wo[0], outstanding));
            } catch (Exception e) {
                failed++;
                System.out.println("{\"workload\":" + quote(wo[0]) + ",\"outstanding\":" + outstanding + ",\"failed\":" + quote(String.valueOf(e)) + "}");
            }
            System.out.flush();
        }
        System.exit(failed == 0 ? 0 : 2);
    }
}
