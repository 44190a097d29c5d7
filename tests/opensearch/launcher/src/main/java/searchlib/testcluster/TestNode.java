package searchlib.testcluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one real OpenSearch node in this JVM and keeps it running until the process is
 * signalled (SIGTERM closes the node cleanly; SIGKILL is what the failure tests send).
 *
 * <p>Every argument is a node setting {@code key=value} (cluster.name, node.name, path.home,
 * http.port, transport.port, discovery.*). The distribution loads its modules from
 * {@code $OPENSEARCH_HOME/modules}; here the two modules searchlib needs are on the classpath
 * and handed to {@link Node} as classpath plugins, the way OpenSearch's own test framework
 * (MockNode) does:
 * <ul>
 *   <li>{@link Netty4Plugin}: the HTTP server and the node-to-node transport;</li>
 *   <li>{@link CommonAnalysisPlugin}: the language analyzers ({@code english}) and the
 *       common token filters.</li>
 * </ul>
 * Highlighting, more_like_this, aggregations and suggesters are part of the server jar.
 */
public final class TestNode {

    private TestNode() {}

    /** A production {@link Node} whose plugins come from the classpath instead of modules/. */
    static final class ClasspathPluginNode extends Node {
        ClasspathPluginNode(Environment environment) {
            super(environment, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class), true);
        }
    }

    public static void main(String[] args) throws Exception {
        Settings.Builder builder = Settings.builder();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got: " + arg);
            }
            builder.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        String nodeName = Node.NODE_NAME_SETTING.get(settings);

        // Logging is set up as the distribution's bootstrap does it: from
        // $path.home/config/log4j2.properties (ours logs to the console at INFO; the fixture
        // sends each node's stdout to a file). Without it only errors would be printed.
        Path configDir = Path.of(Environment.PATH_HOME_SETTING.get(settings)).resolve("config");
        Files.createDirectories(configDir);
        try (InputStream in = TestNode.class.getResourceAsStream("/log4j2.properties")) {
            Files.copy(in, configDir.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        }
        LogConfigurator.registerErrorListener();
        Environment environment =
            InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), configDir, () -> nodeName);
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment);
        Node node = new ClasspathPluginNode(environment);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "searchlib-test-node-shutdown"));
        node.start();
        if (Boolean.getBoolean("searchlib.exitOnStdinEof")) {
            // The test fixture holds the write end of this pipe: when its process dies without
            // stopping the node (killed, crashed), the pipe closes and the node goes too,
            // instead of lingering on the machine.
            Thread watchdog = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // nothing is ever written; read() returns -1 at end of stream
                    }
                } catch (IOException e) {
                    // a broken pipe means the same as end of stream
                }
                System.exit(0);
            }, "searchlib-test-node-stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        System.out.println("searchlib-test-node started: " + nodeName + " http "
            + http.boundAddress().publishAddress());
        System.out.flush();
        // The node's own threads are daemons (the distribution keeps a non-daemon keep-alive
        // thread for the same reason), so main waits here until the shutdown hook has run.
        stopped.await();
    }
}
