package com.infinyon.fluvio.bench;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.KeyValue;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.ProduceOutput;
import com.infinyon.fluvio.RecordBatch;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.TopicProducerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Throughput of the Java API, next to the Rust engine it wraps and the official Rust client, all
 * against the same running cluster. Figures only: nothing here asserts on speed.
 *
 * <pre>
 * java -cp fluvio.jar:bench com.infinyon.fluvio.bench.JavaThroughput &lt;sc-endpoint&gt; &lt;records&gt; &lt;rounds&gt; &lt;record-size&gt; [label=binary ...]
 * </pre>
 *
 * <p>Every side uses batch size 16384 and linger 10 ms and runs the same rounds: produce N
 * keyless records (timed from the first send until every acknowledgement is in), then consume
 * them from the beginning, one record per {@code next()}, and again with {@code nextBatch()}
 * (reading each record's value length through the batch view). Each {@code label=binary} is a Rust
 * program printing {@code produce_rps=.. consume_rps=..} per round. The Java side also
 * produces through {@code sendAll} in slices of 1,000 records. The first round is a warm-up;
 * medians are printed.
 */
public final class JavaThroughput {
    private static final int SEND_ALL_SLICE = 1_000;

    private JavaThroughput() {}

    public static void main(String[] args) throws Exception {
        String endpoint = args.length > 0 ? args[0] : "127.0.0.1:9003";
        int records = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int recordSize = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        Map<String, List<double[]>> baselines = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            String[] labelAndBinary = args[i].split("=", 2);
            baselines.put(labelAndBinary[0], runRust(labelAndBinary[1], endpoint, records, recordSize, rounds));
        }
        List<double[]> javaRates = new ArrayList<>();
        try (Fluvio fluvio = Fluvio.connect(endpoint)) {
            for (int round = 0; round <= rounds; round++) {
                double[] rates = javaRound(fluvio, records, recordSize, round);
                if (round > 0) {
                    javaRates.add(rates);
                }
            }
        }
        System.out.printf("%d records of %d bytes, batch 16384, linger 10 ms, 1 partition; records/s, median of %d rounds%n%n",
                records, recordSize, rounds);
        StringBuilder header = new StringBuilder("| direction | Java API |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (String label : baselines.keySet()) {
            header.append(' ').append(label).append(" | Java / ").append(label).append(" |");
            rule.append("---|---|");
        }
        System.out.println(header);
        System.out.println(rule);
        String[] directions = {"produce, send()", "produce, sendAll(1,000)", "consume, next()", "consume, nextBatch()"};
        int[] baselineColumn = {0, 0, 1, 1};
        for (int row = 0; row < directions.length; row++) {
            double java = median(javaRates, row);
            StringBuilder line = new StringBuilder(String.format("| %s | %,.0f |", directions[row], java));
            for (List<double[]> rates : baselines.values()) {
                double rust = median(rates, baselineColumn[row]);
                line.append(String.format(" %,.0f | %.2fx |", rust, java / rust));
            }
            System.out.println(line);
        }
    }

    /**
     * One round: {@code send()} into a new topic, then consuming it, as the Rust programs do;
     * then {@code sendAll} into another new topic. Each topic is deleted after use, so every
     * producer writes to an empty topic with no earlier data left to flush to disk.
     */
    private static double[] javaRound(Fluvio fluvio, int records, int recordSize, int round) {
        String topic = "java-throughput-" + ProcessHandle.current().pid() + "-" + round;
        byte[] value = new byte[recordSize];
        java.util.Arrays.fill(value, (byte) 'x');
        TopicProducerConfig config = TopicProducerConfig.builder().batchSize(16384).linger(Duration.ofMillis(10)).build();

        fluvio.admin().createTopic(topic, 1, 1);
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
                if (stream.next().value().length != recordSize) {
                    throw new IllegalStateException("unexpected record");
                }
            }
            consumeNanos = System.nanoTime() - start;
        }
        long batchNanos;
        long batchStart = System.nanoTime();
        try (ConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            int read = 0;
            while (read < records) {
                RecordBatch batch = stream.nextBatch();
                for (int i = 0; i < batch.size(); i++) {
                    if (batch.valueLength(i) != recordSize) {
                        throw new IllegalStateException("unexpected record");
                    }
                }
                read += batch.size();
            }
            batchNanos = System.nanoTime() - batchStart;
        }
        fluvio.admin().deleteTopic(topic);

        String sendAllTopic = topic + "-send-all";
        fluvio.admin().createTopic(sendAllTopic, 1, 1);
        long sendAllNanos;
        try (TopicProducer producer = fluvio.topicProducer(sendAllTopic, config)) {
            List<KeyValue> slice = new ArrayList<>(SEND_ALL_SLICE);
            for (int i = 0; i < SEND_ALL_SLICE; i++) {
                slice.add(KeyValue.of(null, value));
            }
            List<ProduceOutput> outputs = new ArrayList<>(records);
            long sendAllStart = System.nanoTime();
            for (int sent = 0; sent < records; sent += SEND_ALL_SLICE) {
                outputs.addAll(producer.sendAll(slice.subList(0, Math.min(SEND_ALL_SLICE, records - sent))));
            }
            producer.flush();
            for (ProduceOutput output : outputs) {
                output.get();
            }
            sendAllNanos = System.nanoTime() - sendAllStart;
        }
        fluvio.admin().deleteTopic(sendAllTopic);
        return new double[] {records * 1e9 / produceNanos, records * 1e9 / sendAllNanos, records * 1e9 / consumeNanos,
            records * 1e9 / batchNanos};
    }

    private static List<double[]> runRust(String binary, String endpoint, int records, int recordSize, int rounds)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(binary, endpoint, Integer.toString(records), Integer.toString(recordSize),
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
                    System.err.println(binary + ": " + text);
                }
            }
        }
        if (process.waitFor() != 0 || rates.isEmpty()) {
            throw new IllegalStateException(binary + " failed");
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
