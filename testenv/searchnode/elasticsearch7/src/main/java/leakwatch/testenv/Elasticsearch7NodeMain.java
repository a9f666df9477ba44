package leakwatch.testenv;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;

/**
 * Embedded, single-node Elasticsearch 7 (OSS core) for leakwatch integration tests.
 *
 * Boots org.elasticsearch.node.Node in-process with the Netty4 HTTP/transport plugin loaded from
 * the classpath instead of a distribution's modules/ folder (analysis-common, painless etc. are
 * not published on Maven Central for 7.10.2, so only the core analyzers are available).
 * No security plugin is loaded, so the REST API is open: exactly the "unauthenticated data
 * store" leakwatch is meant to find.
 *
 * Usage: Elasticsearch7NodeMain --host 127.0.0.X --port 9200 --data DIR
 *                           [--transport-port N] [--cluster-name NAME] [--node-name NAME]
 *                           [--setting key=value ...]
 *
 * The node binds and publishes ONLY on the given loopback address and never looks for
 * other hosts (discovery.type=single-node).
 */
public final class Elasticsearch7NodeMain {

    /** Node's plugin-taking constructor is protected; this subclass only exposes it. */
    static final class ClasspathPluginNode extends Node {
        ClasspathPluginNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    /** Console logging (start.sh sends stdout to DATADIR/node.log); written to path.home/config if absent. */
    static final String LOG4J2_PROPERTIES = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "");

    public static void main(String[] argv) throws Exception {
        // what a tar distribution reports in GET / (the real launcher scripts set these)
        if (System.getProperty("es.distribution.flavor") == null) System.setProperty("es.distribution.flavor", "oss");
        if (System.getProperty("es.distribution.type") == null) System.setProperty("es.distribution.type", "tar");
        Map<String, String> args = Args.parse(argv);
        String host = Args.loopbackHost(args.get("host"));
        int httpPort = Integer.parseInt(Args.required(args, "port"));
        int transportPort = Integer.parseInt(args.getOrDefault("transport-port", String.valueOf(httpPort + 100)));
        Path data = Paths.get(Args.required(args, "data")).toAbsolutePath().normalize();

        Path home = data.resolve("home");
        Files.createDirectories(home.resolve("config"));
        Path log4jConfig = home.resolve("config").resolve("log4j2.properties");
        if (!Files.exists(log4jConfig)) {
            Files.write(log4jConfig, LOG4J2_PROPERTIES.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));
        Files.createDirectories(data.resolve("data"));
        Files.createDirectories(data.resolve("logs"));

        Settings.Builder sb = Settings.builder()
            .put("cluster.name", args.getOrDefault("cluster-name", "leakwatch-test"))
            .put("node.name", args.getOrDefault("node-name", "searchnode-elasticsearch7"))
            .put("path.home", home.toString())
            .put("path.data", data.resolve("data").toString())
            .put("path.logs", data.resolve("logs").toString())
            // loopback only: bind and publish on exactly the address we were given
            .put("network.host", host)
            .put("network.bind_host", host)
            .put("network.publish_host", host)
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // never look for other nodes
            .put("discovery.type", "single-node")
            // tests run on whatever disk CI has; do not turn indices read-only on a full disk
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true);
        for (String kv : Args.settings(args)) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--setting expects key=value, got " + kv);
            String key = kv.substring(0, eq);
            if (key.startsWith("network.") || key.endsWith(".host") || key.endsWith("bind_host")
                || key.endsWith("publish_host") || key.startsWith("discovery.") || key.contains("seed")
                || key.startsWith("cluster.remote.") || key.startsWith("search.remote.")
                || key.startsWith("path.") || key.endsWith(".port")) {
                // loopback-only rule: nothing may widen the bind/publish address or reach other hosts
                throw new IllegalArgumentException("refusing to override network/discovery/path setting " + key);
            }
            sb.put(key, kv.substring(eq + 1));
        }
        Settings settings = sb.build();

        LogConfigurator.registerErrorListener();
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), null, () -> settings.get("node.name"));
        LogConfigurator.setNodeName(env.settings().get("node.name"));
        LogConfigurator.configure(env);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        plugins.add(org.elasticsearch.transport.Netty4Plugin.class);

        final Node node = new ClasspathPluginNode(env, plugins);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "searchnode-shutdown"));

        long t0 = System.nanoTime();
        node.start();
        System.out.printf("searchnode: elasticsearch7 started on http://%s:%d (transport %d) in %d ms%n",
            host, httpPort, transportPort, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        System.out.flush();

        // keep the JVM alive until SIGTERM/SIGINT (like the real bootstrap's keep-alive thread)
        Thread keepAlive = new Thread(() -> {
            try { stopped.await(); } catch (InterruptedException ignored) { }
        }, "searchnode-keepalive");
        keepAlive.setDaemon(false);
        keepAlive.start();
    }

    /** Minimal argument parsing shared in spirit with the Elasticsearch launcher. */
    static final class Args {
        static Map<String, String> parse(String[] argv) {
            Map<String, String> out = new LinkedHashMap<>();
            int settingN = 0;
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                if (!a.startsWith("--") || i + 1 >= argv.length) {
                    throw new IllegalArgumentException("usage: --host 127.0.0.X --port N --data DIR "
                        + "[--transport-port N] [--cluster-name S] [--node-name S] [--setting k=v]...; bad arg: " + a);
                }
                String key = a.substring(2);
                String val = argv[++i];
                if (key.equals("setting")) key = "setting." + (settingN++);
                out.put(key, val);
            }
            return out;
        }

        static List<String> settings(Map<String, String> args) {
            List<String> out = new ArrayList<>();
            for (Map.Entry<String, String> e : args.entrySet()) {
                if (e.getKey().startsWith("setting.")) out.add(e.getValue());
            }
            return out;
        }

        static String required(Map<String, String> args, String key) {
            String v = args.get(key);
            if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing --" + key);
            return v;
        }

        /** Accepts only a literal IPv4 loopback address (127.0.0.0/8). */
        static String loopbackHost(String host) throws Exception {
            if (host == null || !host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
                throw new IllegalArgumentException("--host must be a literal 127.x.y.z loopback address, got " + host);
            }
            InetAddress addr = InetAddress.getByName(host);
            if (!addr.isLoopbackAddress()) {
                throw new IllegalArgumentException("--host is not a loopback address: " + host);
            }
            return host;
        }
    }
}
