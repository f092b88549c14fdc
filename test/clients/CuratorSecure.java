// Curator (Debian libcurator-*-java) on top of the Apache ZooKeeper 3.8 Java client, made secure by
// the same system properties an application would set: a JAAS Client section for SASL DIGEST-MD5
// (-Djava.security.auth.login.config=…), or -Dzookeeper.client.secure=true with the Netty socket and
// key/trust stores for TLS. Usage: java CuratorSecure HOST:PORT PATH SCHEME ID
// Connects, asks whoami, creates PATH with the ACL SCHEME:ID:cdrwa, reads its ACL and data back and
// sets it; prints one line per step (`step: result` or `step: error CODE`) and the connection
// states Curator reported. The tests compare these lines between Apache ZooKeeper and zk-server.
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.*;

public class CuratorSecure {
  interface Step { String run() throws Exception; }

  static void step(String name, Step s) {
    String r;
    try {
      r = s.run();
    } catch (KeeperException e) {
      r = "error " + e.code();
    } catch (Exception e) {
      r = "error " + e.getClass().getSimpleName();
    }
    System.out.println(name + ": " + r);
    System.out.flush();
  }

  static CuratorFramework client(String cs) {
    // no retries: a refused client should say so at once, not after Curator's back-off
    return CuratorFrameworkFactory.builder().connectString(cs).sessionTimeoutMs(10000).connectionTimeoutMs(8000).retryPolicy(new RetryNTimes(0, 100)).build();
  }

  public static void main(String[] a) throws Exception {
    String cs = a[0], path = a[1], scheme = a[2], id = a[3];
    List<String> states = Collections.synchronizedList(new ArrayList<>());
    CuratorFramework c = client(cs);
    c.getConnectionStateListenable().addListener((cl, s) -> states.add(s.name()));
    c.start();
    boolean connected = c.blockUntilConnected(15, TimeUnit.SECONDS);
    System.out.println("connected: " + connected);
    if (!connected) {
      // refused: what Curator reported is the result; every operation would only time out
      c.close();
      System.out.println("states: " + String.join(",", states));
      System.out.flush();
      System.exit(0);
    }
    step("whoami", () -> {
      List<String> ids = new ArrayList<>();
      for (ClientInfo i : c.getZookeeperClient().getZooKeeper().whoAmI()) ids.add(i.getAuthScheme() + ":" + i.getUser());
      Collections.sort(ids);
      return String.join(",", ids);
    });
    step("create", () -> c.create().withACL(List.of(new ACL(ZooDefs.Perms.ALL, new Id(scheme, id)))).forPath(path, "curator".getBytes(StandardCharsets.UTF_8)));
    step("getAcl", () -> {
      List<String> acl = new ArrayList<>();
      for (ACL x : c.getACL().forPath(path)) acl.add(x.getId().getScheme() + ":" + x.getId().getId() + ":" + x.getPerms());
      return String.join(",", acl);
    });
    step("get", () -> new String(c.getData().forPath(path), StandardCharsets.UTF_8));
    step("setData", () -> String.valueOf(c.setData().forPath(path, "again".getBytes(StandardCharsets.UTF_8)).getVersion()));
    c.close();
    System.out.println("states: " + String.join(",", states));
    System.out.flush();
    System.exit(0);
  }
}
