package com.infinyon.fluvio.bench;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.TopicProducerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory of streams whose reader falls behind: the JVM's resident set with {@code streams}
 * streams open on a backlog they do not read, and again after they are closed. Figures only.
 *
 * <pre>
 * java -cp fluvio.jar:bench com.infinyon.fluvio.bench.LaggingStreams &lt;sc-endpoint&gt; [streams] [backlog-bytes]
 * </pre>
 *
 * <p>Produces {@code backlog-bytes} (default 5.5 MB) of 100-byte records into one topic, opens
 * {@code streams} (default 100) streams on it from the beginning with default settings, reads one
 * record from each, waits 3 s for them to fill what they buffer, and prints the resident set
 * (from /proc, Linux) and the bytes the streams hold by the engine's accounting; then closes
 * them, runs the garbage collector, waits 3 s, and prints the resident set again.
 */
public final class LaggingStreams {
    private LaggingStreams() {}

    private static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:9003";
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        long backlog = args.length > 2 ? Long.parseLong(args[2]) : 5_500_000L;
        try (Fluvio fluvio = Fluvio.connect(endpoint)) {
            String topic = "lagging-" + ProcessHandle.current().pid();
            fluvio.admin().createTopic(topic, 1, 1);
            byte[] value = new byte[100];
            TopicProducerConfig config = TopicProducerConfig.builder().linger(Duration.ofMillis(10)).build();
            try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
                for (long sent = 0; sent < backlog; sent += value.length) {
                    producer.send(null, value);
                }
                producer.flush();
            }
            System.gc();
            Thread.sleep(1000);
            long start = rssKiB();
            List<ConsumerStream> open = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                ConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning());
                stream.next();
                open.add(stream);
            }
            Thread.sleep(3000);
            long lagging = rssKiB();
            long held = 0;
            for (ConsumerStream stream : open) {
                held += bufferedBytes(stream);
            }
            for (ConsumerStream stream : open) {
                stream.close();
            }
            open.clear();
            System.gc();
            Thread.sleep(3000);
            long closed = rssKiB();
            System.out.printf("streams=%d backlog=%d B rss_start=%d MiB rss_lagging=%d MiB rss_closed=%d MiB held_by_streams=%s%n",
                    streams, backlog, start / 1024, lagging / 1024, closed / 1024,
                    held < 0 ? "n/a" : (held / (1024 * 1024)) + " MiB");
            fluvio.admin().deleteTopic(topic);
        }
    }

    /** The engine's accounting, where this version of the library has it (-1 otherwise). */
    private static long bufferedBytes(ConsumerStream stream) {
        try {
            return (long) ConsumerStream.class.getMethod("bufferedBytes").invoke(stream);
        } catch (ReflectiveOperationException absent) {
            return Long.MIN_VALUE / 1000;
        }
    }
}
