package leakwatch.testenv;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Open-source Hazelcast members for leakwatch tests, all in one JVM: one per --member HOST:PORT:CLUSTER, each on a
 * literal 127.x.y.z address only, standalone (multicast, TCP/IP and auto-detection join off, phone-home off), with
 * the maps of --seed FILE written into each. A seed line is MAP TAB json|string TAB KEY TAB VALUE; json values are
 * stored as HazelcastJsonValue, string values as String.
 */
public final class HazelcastNodeMain {
  private HazelcastNodeMain() {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    List<String[]> members = new ArrayList<>();
    Path seed = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--member" -> members.add(args[i + 1].split(":", 3));
        case "--seed" -> seed = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (members.isEmpty()) {
      throw new IllegalArgumentException("usage: --member 127.x.y.z:PORT:CLUSTER ... [--seed FILE]");
    }
    List<String> lines = seed == null ? List.of() : Files.readAllLines(seed, StandardCharsets.UTF_8);
    List<HazelcastInstance> started = new ArrayList<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> started.forEach(HazelcastInstance::shutdown)));
    for (String[] m : members) {
      HazelcastInstance hz = Hazelcast.newHazelcastInstance(config(m));
      started.add(hz);
      for (String line : lines) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", 4);
        IMap<String, Object> map = hz.getMap(f[0]);
        map.set(f[2], "json".equals(f[1]) ? new HazelcastJsonValue(f[3]) : f[3]);
      }
    }
    PrintStream out = System.out;
    out.println("HZNODE READY " + members.size() + " members, " + lines.size() + " seed entries each");
    out.flush();
    Thread.currentThread().join();
  }

  private static Config config(String[] m) {
    if (m.length != 3 || !m[0].matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      throw new IllegalArgumentException("--member must be 127.x.y.z:PORT:CLUSTER (loopback only)");
    }
    String host = m[0];
    int port = Integer.parseInt(m[1]);
    Config cfg = new Config();
    cfg.setClusterName(m[2]);
    cfg.setInstanceName("leakwatch-" + host + "-" + port);
    // Loopback only, no outbound traffic of any kind.
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.socket.bind.any", "false");
    cfg.setProperty("hazelcast.local.localAddress", host);
    cfg.setProperty("hazelcast.logging.type", "jdk");
    cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
    cfg.getJetConfig().setEnabled(false);
    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(false).setPortCount(1);
    net.setPublicAddress(host + ":" + port);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    return cfg;
  }
}
