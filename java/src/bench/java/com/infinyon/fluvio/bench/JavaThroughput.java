package com.infinyon.fluvio.bench;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.ProduceOutput;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.TopicProducerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Throughput of 100-byte records through the Java API, next to the Rust engine it wraps, against
 * the same running cluster. Figures only: nothing here asserts on speed.
 *
 * <pre>
 * java -cp fluvio.jar:bench com.infinyon.fluvio.bench.JavaThroughput &lt;sc-endpoint&gt; [engine-binary] [records] [rounds]
 * </pre>
 *
 * <p>Both sides use batch size 16384 and linger 10 ms and run the same rounds: produce N keyless
 * records (timed from the first send until every acknowledgement is in), then consume them from
 * the beginning, one record per {@code next()}. The first round is a warm-up; medians are printed.
 */
public final class JavaThroughput {
    private static final int RECORD_SIZE = 100;

    private JavaThroughput() {}

    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:9003";
        String engine = args.length > 1 ? args[1] : null;
        int records = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;

        List<double[]> engineRates = engine == null ? Collections.emptyList() : runEngine(engine, endpoint, records, rounds);
        List<double[]> javaRates = new ArrayList<>();
        try (Fluvio fluvio = Fluvio.connect(endpoint)) {
            for (int round = 0; round <= rounds; round++) {
                double[] rates = javaRound(fluvio, records, round);
                if (round > 0) {
                    javaRates.add(rates);
                }
            }
        }
        System.out.printf("Java API vs Rust engine, %d records of %d bytes, batch 16384, linger 10 ms, median of %d rounds%n%n",
                records, RECORD_SIZE, rounds);
        System.out.println("| direction | Rust engine (records/s) | Java API (records/s) | Java / Rust |");
        System.out.println("|---|---|---|---|");
        for (int i = 0; i < 2; i++) {
            double java = median(javaRates, i);
            double rust = engineRates.isEmpty() ? Double.NaN : median(engineRates, i);
            System.out.printf("| %s | %,.0f | %,.0f | %.2fx |%n", i == 0 ? "produce" : "consume", rust, java, java / rust);
        }
    }

    private static double[] javaRound(Fluvio fluvio, int records, int round) {
        String topic = "java-throughput-" + ProcessHandle.current().pid() + "-" + round;
        fluvio.admin().createTopic(topic, 1, 1);
        byte[] value = new byte[RECORD_SIZE];
        java.util.Arrays.fill(value, (byte) 'x');
        TopicProducerConfig config = TopicProducerConfig.builder().batchSize(16384).linger(Duration.ofMillis(10)).build();
        long produceNanos;
        try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
            List<ProduceOutput> outputs = new ArrayList<>(records);
            long start = System.nanoTime();
            for (int i = 0; i < records; i++) {
                outputs.add(producer.send(null, value));
            }
            producer.flush();
            for (ProduceOutput output : outputs) {
                output.get();
            }
            produceNanos = System.nanoTime() - start;
        }
        long consumeNanos;
        long start = System.nanoTime();
        try (ConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            for (int i = 0; i < records; i++) {
                if (stream.next().value().length != RECORD_SIZE) {
                    throw new IllegalStateException("unexpected record");
                }
            }
            consumeNanos = System.nanoTime() - start;
        }
        fluvio.admin().deleteTopic(topic);
        return new double[] {records * 1e9 / produceNanos, records * 1e9 / consumeNanos};
    }

    private static List<double[]> runEngine(String binary, String endpoint, int records, int rounds)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(binary, endpoint, Integer.toString(records), Integer.toString(RECORD_SIZE),
                Integer.toString(rounds)).redirectErrorStream(true).start();
        Pattern line = Pattern.compile("produce_rps=(\\d+) consume_rps=(\\d+)");
        List<double[]> rates = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String text;
            while ((text = out.readLine()) != null) {
                Matcher m = line.matcher(text);
                if (m.find()) {
                    rates.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
                } else {
                    System.err.println("engine: " + text);
                }
            }
        }
        if (process.waitFor() != 0 || rates.isEmpty()) {
            throw new IllegalStateException("the engine benchmark failed");
        }
        return rates;
    }

    private static double median(List<double[]> rates, int column) {
        List<Double> values = new ArrayList<>();
        for (double[] rate : rates) {
            values.add(rate[column]);
        }
        Collections.sort(values);
        return values.get(values.size() / 2);
    }
}
