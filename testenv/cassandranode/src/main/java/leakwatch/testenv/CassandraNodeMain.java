package leakwatch.testenv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Pattern;

/**
 * Boots a real, single-node Apache Cassandra (cassandra-all from Maven Central) in this JVM, bound to one
 * loopback address only, for leakwatch integration tests.
 *
 * <pre>
 *   CassandraNodeMain --host 127.x.y.z --port CQLPORT --storage-port PORT --data DATADIR --auth none|password
 * </pre>
 *
 * It writes DATADIR/conf/cassandra.yaml and DATADIR/conf/logback.xml, sets the system properties the
 * bin/cassandra script would set, and hands over to CassandraDaemon. JMX is not started (no
 * cassandra.jmx.*.port property), the node is its own only seed, and every address in the config is the one
 * given loopback address.
 */
public final class CassandraNodeMain {
  private static final Pattern LOOPBACK =
      Pattern.compile("^127\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)$");

  private CassandraNodeMain() {}

  public static void main(String[] args) throws Exception {
    String host = null, data = null, auth = "none";
    int port = 0, storagePort = 0;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        die("missing value for " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--host": host = v; break;
        case "--port": port = parsePort(v); break;
        case "--storage-port": storagePort = parsePort(v); break;
        case "--data": data = v; break;
        case "--auth": auth = v; break;
        default: die("unknown argument " + a);
      }
    }
    if (host == null || data == null || port == 0 || storagePort == 0) {
      die("usage: --host 127.x.y.z --port N --storage-port N --data DIR [--auth none|password]");
    }
    // Network rule: loopback only, a literal 127.x.y.z address.
    if (!LOOPBACK.matcher(host).matches()) {
      die("--host must be a literal 127.x.y.z address, got '" + host + "'");
    }
    if (!auth.equals("none") && !auth.equals("password")) {
      die("--auth must be none or password");
    }
    Path dir = Paths.get(data).toAbsolutePath();
    Path conf = dir.resolve("conf");
    Files.createDirectories(conf);
    Path yaml = conf.resolve("cassandra.yaml");
    Files.write(yaml, yaml(host, port, storagePort, dir, auth).getBytes(StandardCharsets.UTF_8));
    Path logback = conf.resolve("logback.xml");
    Files.write(logback, LOGBACK.getBytes(StandardCharsets.UTF_8));

    System.setProperty("cassandra.config", yaml.toUri().toString());
    System.setProperty("cassandra.storagedir", dir.toString());
    System.setProperty("cassandra.logdir", dir.resolve("logs").toString());
    System.setProperty("logback.configurationFile", logback.toString());
    System.setProperty("cassandra-foreground", "yes");
    // A fresh single node: no ring to wait for, no gossip to settle.
    System.setProperty("cassandra.ring_delay_ms", "100");
    System.setProperty("cassandra.skip_wait_for_gossip_to_settle", "0");
    System.setProperty("cassandra.load_ring_state", "false");
    // Create the default superuser (cassandra/cassandra) right away instead of after 10 s.
    System.setProperty("cassandra.superuser_setup_delay_ms", "0");
    System.setProperty("java.net.preferIPv4Stack", "true");
    Files.createDirectories(dir.resolve("logs"));

    org.apache.cassandra.service.CassandraDaemon.main(new String[0]);
    // The daemon first records system.size_estimates 30 s after start, then every 5 minutes.
    // Tests want estimates of freshly flushed tables within seconds: record every 2 s as well.
    org.apache.cassandra.concurrent.ScheduledExecutors.optionalTasks.scheduleWithFixedDelay(
        org.apache.cassandra.db.SizeEstimatesRecorder.instance, 1, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static String yaml(String host, int port, int storagePort, Path dir, String auth) {
    boolean pw = auth.equals("password");
    StringBuilder b = new StringBuilder();
    b.append("cluster_name: leakwatch-test\n");
    b.append("num_tokens: 1\n");
    b.append("partitioner: org.apache.cassandra.dht.Murmur3Partitioner\n");
    b.append("authenticator: ").append(pw ? "PasswordAuthenticator" : "AllowAllAuthenticator").append('\n');
    b.append("authorizer: ").append(pw ? "CassandraAuthorizer" : "AllowAllAuthorizer").append('\n');
    b.append("role_manager: CassandraRoleManager\n");
    b.append("network_authorizer: AllowAllNetworkAuthorizer\n");
    b.append("data_file_directories:\n  - ").append(dir.resolve("data")).append('\n');
    b.append("commitlog_directory: ").append(dir.resolve("commitlog")).append('\n');
    b.append("saved_caches_directory: ").append(dir.resolve("saved_caches")).append('\n');
    b.append("hints_directory: ").append(dir.resolve("hints")).append('\n');
    b.append("cdc_raw_directory: ").append(dir.resolve("cdc_raw")).append('\n');
    b.append("commitlog_sync: periodic\n");
    b.append("commitlog_sync_period: 10000ms\n");
    b.append("commitlog_segment_size: 8MiB\n");
    b.append("seed_provider:\n");
    b.append("  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n");
    b.append("    parameters:\n");
    b.append("      - seeds: \"").append(host).append(':').append(storagePort).append("\"\n");
    b.append("listen_address: ").append(host).append('\n');
    b.append("broadcast_address: ").append(host).append('\n');
    b.append("rpc_address: ").append(host).append('\n');
    b.append("broadcast_rpc_address: ").append(host).append('\n');
    b.append("storage_port: ").append(storagePort).append('\n');
    b.append("ssl_storage_port: ").append(storagePort).append('\n');
    b.append("start_native_transport: true\n");
    b.append("native_transport_port: ").append(port).append('\n');
    b.append("endpoint_snitch: SimpleSnitch\n");
    b.append("dynamic_snitch: false\n");
    b.append("auto_snapshot: false\n");
    b.append("snapshot_on_duplicate_row_detection: false\n");
    b.append("disk_failure_policy: stop\n");
    b.append("commit_failure_policy: stop\n");
    b.append("concurrent_reads: 4\n");
    b.append("concurrent_writes: 4\n");
    b.append("concurrent_counter_writes: 4\n");
    b.append("concurrent_compactors: 1\n");
    b.append("key_cache_size: 0MiB\n");
    b.append("counter_cache_size: 0MiB\n");
    b.append("prepared_statements_cache_size: 4MiB\n");
    b.append("file_cache_size: 32MiB\n");
    b.append("memtable_heap_space: 64MiB\n");
    b.append("memtable_offheap_space: 64MiB\n");
    b.append("cdc_enabled: false\n");
    b.append("incremental_backups: false\n");
    return b.toString();
  }

  private static final String LOGBACK =
      "<configuration>\n"
          + "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">\n"
          + "    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>\n"
          + "  </appender>\n"
          + "  <root level=\"INFO\"><appender-ref ref=\"STDOUT\"/></root>\n"
          + "</configuration>\n";

  private static int parsePort(String v) {
    int p;
    try {
      p = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      die("bad port " + v);
      return 0;
    }
    if (p < 1024 || p > 65535) {
      die("bad port " + v);
    }
    return p;
  }

  private static void die(String msg) {
    System.err.println("CassandraNodeMain: " + msg);
    System.exit(2);
  }
}
