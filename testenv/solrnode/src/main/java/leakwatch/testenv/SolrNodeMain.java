package leakwatch.testenv;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.apache.solr.security.Sha256AuthenticationProvider;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A standalone Solr node for leakwatch tests: Solr's own embedded Jetty runner (solr-test-framework's
 * JettySolrRunner) on a literal 127.x.y.z address, a solr home made here with one core per --core (each from
 * the committed configset), and with --password a security.json that turns on the BasicAuthPlugin with
 * blockUnknown and a rule that every path needs the admin role.
 */
public final class SolrNodeMain {
  private SolrNodeMain() {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      // Jetty's threads would keep a failed node's JVM alive: exit, so that start.sh sees it.
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    String host = null, home = null, configsets = null, password = null;
    int port = -1;
    List<String> cores = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--host" -> host = args[i + 1];
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--home" -> home = args[i + 1];
        case "--configsets" -> configsets = args[i + 1];
        case "--core" -> cores.add(args[i + 1]);
        case "--password" -> password = args[i + 1];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    // Network rule: a literal IPv4 loopback address only.
    if (host == null || !host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      throw new IllegalArgumentException("--host must be a literal 127.x.y.z address, got " + host);
    }
    if (port < 1024 || port > 65535 || home == null || configsets == null) {
      throw new IllegalArgumentException("usage: --host 127.x.y.z --port P --home DIR --configsets DIR [--core NAME]... [--password PW]");
    }
    Path solrHome = Path.of(home).toAbsolutePath();
    makeHome(solrHome, Path.of(configsets), cores, password);

    System.setProperty("host", host); // the node name Solr advertises
    System.setProperty("solr.log.dir", solrHome.resolve("logs").toString());
    JettyConfig cfg = JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).useOnlyHttp1(true).build();
    JettySolrRunner runner = new JettySolrRunner(solrHome.toString(), cfg);
    // JettySolrRunner binds 127.0.0.1; tests model a fleet on many loopback addresses, so the one
    // connector it made is moved to the given address before it starts.
    Field f = JettySolrRunner.class.getDeclaredField("server");
    f.setAccessible(true);
    Server server = (Server) f.get(runner);
    for (Connector c : server.getConnectors()) {
      ((ServerConnector) c).setHost(host);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.stop();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }));
    runner.start();
    PrintStream out = System.out;
    out.println("SOLRNODE READY " + runner.getBaseUrl() + " cores=" + runner.getCoreContainer().getAllCoreNames());
    out.flush();
    server.join();
  }

  /** makeHome writes solr.xml, the configsets, one core.properties per core and, with a password, security.json. */
  private static void makeHome(Path home, Path configsets, List<String> cores, String password) throws IOException {
    Files.createDirectories(home);
    Files.writeString(home.resolve("solr.xml"), """
        <?xml version="1.0" encoding="UTF-8" ?>
        <solr>
          <int name="maxBooleanClauses">1024</int>
          <shardHandlerFactory name="shardHandlerFactory" class="HttpShardHandlerFactory">
            <int name="socketTimeout">60000</int>
            <int name="connTimeout">10000</int>
          </shardHandlerFactory>
        </solr>
        """, StandardCharsets.UTF_8);
    copyTree(configsets, home.resolve("configsets"));
    for (String core : cores) {
      if (!core.matches("[A-Za-z0-9_]+")) {
        throw new IllegalArgumentException("bad core name " + core);
      }
      Path dir = home.resolve(core);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("core.properties"), "name=" + core + "\nconfigSet=leakwatch-minimal\n", StandardCharsets.UTF_8);
    }
    Path sec = home.resolve("security.json");
    if (password == null || password.isEmpty()) {
      Files.deleteIfExists(sec);
      return;
    }
    String cred = Sha256AuthenticationProvider.getSaltedHashedValue(password);
    Files.writeString(sec, """
        {"authentication": {"blockUnknown": true, "class": "solr.BasicAuthPlugin", "forwardCredentials": false,
                            "credentials": {"solr": "%s"}},
         "authorization": {"class": "solr.RuleBasedAuthorizationPlugin",
                           "permissions": [{"name": "all", "role": "admin"}],
                           "user-role": {"solr": "admin"}}}
        """.formatted(cred), StandardCharsets.UTF_8);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
