// Known answers for the tree digest: applies a script of DataTree operations to Apache ZooKeeper's
// own DataTree (org.apache.zookeeper.server.DataTree, the 3.8 jar) and prints its tree digest after
// each one. test/digest.test.ts runs the same script on zk-server's DataTree and compares.
// Script lines (stdin), fields separated by tabs; DATA is hex, "-" for null, "=" for empty:
//   create PATH DATA OWNER ZXID TIME      createNode(path, data, OPEN_ACL, owner, -1, zxid, time)
//   set PATH DATA VERSION ZXID TIME       setData(path, data, version, zxid, time)
//   delete PATH ZXID                      deleteNode(path, zxid)
//   acl PATH VERSION                      setACL(path, READ_ACL, version)
// Output: one line per script line, the tree digest (a signed long) after it.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.server.DataTree;

public class JavaDigest {
    static byte[] data(String s) {
        if (s.equals("-")) return null;
        if (s.equals("=")) return new byte[0];
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    public static void main(String[] args) throws Exception {
        DataTree dt = new DataTree();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        out.append(dt.getTreeDigest()).append('\n');
        for (String line; (line = in.readLine()) != null;) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t");
            switch (f[0]) {
                case "create":
                    dt.createNode(f[1], data(f[2]), ZooDefs.Ids.OPEN_ACL_UNSAFE, Long.parseLong(f[3]), -1, Long.parseLong(f[4]), Long.parseLong(f[5]));
                    break;
                case "set":
                    dt.setData(f[1], data(f[2]), Integer.parseInt(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5]));
                    break;
                case "delete":
                    dt.deleteNode(f[1], Long.parseLong(f[2]));
                    break;
                case "acl":
                    dt.setACL(f[1], ZooDefs.Ids.READ_ACL_UNSAFE, Integer.parseInt(f[2]));
                    break;
                default:
                    throw new IllegalArgumentException(line);
            }
            out.append(dt.getTreeDigest()).append('\n');
        }
        System.out.print(out);
    }
}
