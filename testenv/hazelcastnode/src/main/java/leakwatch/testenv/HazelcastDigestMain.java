package leakwatch.testenv;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints one line: a SHA-256 over every map of a member (name, size, every entry in key order), read by the real
 * Hazelcast Java client (the test side may read everything; leakwatch reads a bounded sample).
 *   HazelcastDigestMain 127.x.y.z:PORT CLUSTER
 */
public final class HazelcastDigestMain {
  private HazelcastDigestMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}:\\d+")) {
      System.err.println("usage: HazelcastDigestMain 127.x.y.z:PORT CLUSTER");
      System.exit(2);
    }
    ClientConfig cc = new ClientConfig();
    cc.setClusterName(args[1]);
    cc.setProperty("hazelcast.phone.home.enabled", "false");
    cc.setProperty("hazelcast.logging.type", "none");
    cc.getNetworkConfig().addAddress(args[0]).setSmartRouting(false);
    cc.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(20000);
    HazelcastInstance c = HazelcastClient.newHazelcastClient(cc);
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<String> names = new ArrayList<>();
      for (DistributedObject o : c.getDistributedObjects()) {
        names.add(o.getServiceName() + "/" + o.getName());
      }
      names.sort(null);
      for (String n : names) {
        md.update((n + "\n").getBytes(StandardCharsets.UTF_8));
        if (!n.startsWith("hz:impl:mapService/")) {
          continue;
        }
        IMap<Object, Object> map = c.getMap(n.substring(n.indexOf('/') + 1));
        TreeMap<String, String> sorted = new TreeMap<>();
        for (Map.Entry<Object, Object> e : map.entrySet()) {
          sorted.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        }
        md.update(("size " + map.size() + "\n").getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, String> e : sorted.entrySet()) {
          md.update((e.getKey() + "=" + e.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
      PrintStream out = System.out;
      out.println(HexFormat.of().formatHex(md.digest()));
      out.flush();
    } finally {
      c.shutdown();
    }
  }
}
