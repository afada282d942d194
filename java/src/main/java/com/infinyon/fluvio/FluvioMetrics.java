package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link TopicProducer}, a {@link ConsumerStream} or a whole {@link Fluvio} client did,
 * at one moment: an immutable snapshot, from counters the native engine keeps as it works
 * (each update an atomic add). A client's metrics are the totals of every producer and stream
 * it ran, closed ones included.
 *
 * <pre>{@code
 * FluvioMetrics m = producer.metrics();
 * long sent = m.recordsSent();
 * Duration p99 = m.sendLatency().p99();
 * }</pre>
 *
 * <p>The optional {@code fluvio-micrometer} module exposes them as Micrometer meters.
 *
 * <p>Thread-safety: immutable.
 */
public final class FluvioMetrics {
    private final long recordsSent;
    private final long bytesSent;
    private final long batchesSent;
    private final long recordsReceived;
    private final long bytesReceived;
    private final long batchesReceived;
    private final long retries;
    private final long reconnects;
    private final long inFlightRequests;
    private final Map<FluvioException.Code, Long> errors;
    private final Latency sendLatency;
    private final Latency fetchLatency;

    private FluvioMetrics(Unpacker in) {
        recordsSent = in.i64();
        bytesSent = in.i64();
        batchesSent = in.i64();
        recordsReceived = in.i64();
        bytesReceived = in.i64();
        batchesReceived = in.i64();
        retries = in.i64();
        reconnects = in.i64();
        inFlightRequests = in.i64();
        Map<FluvioException.Code, Long> byCode = new EnumMap<>(FluvioException.Code.class);
        int kinds = in.i32();
        for (int i = 0; i < kinds; i++) {
            FluvioException.Code code = FluvioException.Code.valueOf(Objects.requireNonNull(in.str()));
            byCode.merge(code, in.i64(), Long::sum);
        }
        errors = Collections.unmodifiableMap(byCode);
        sendLatency = new Latency(in);
        fetchLatency = new Latency(in);
    }

    /** Decodes the packed layout {@code METRICS}. */
    static FluvioMetrics unpack(byte[] packed) {
        return new FluvioMetrics(new Unpacker(packed));
    }

    /** Records acknowledged by the cluster. */
    public long recordsSent() {
        return recordsSent;
    }

    /** Bytes of the record batches acknowledged, as sent (compressed when compression is on). */
    public long bytesSent() {
        return bytesSent;
    }

    /** Record batches acknowledged. */
    public long batchesSent() {
        return batchesSent;
    }

    /** Bytes per batch acknowledged (0 before any). */
    public long averageSentBatchSize() {
        return batchesSent == 0 ? 0 : bytesSent / batchesSent;
    }

    /** Records received by streams, and (in a client's metrics) by its one-shot fetches. */
    public long recordsReceived() {
        return recordsReceived;
    }

    /** Bytes of the keys and values of the records received. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Chunks of records received (one per record batch an SPU pushed to a stream). */
    public long batchesReceived() {
        return batchesReceived;
    }

    /** Bytes of keys and values per chunk received (0 before any). */
    public long averageReceivedBatchSize() {
        return batchesReceived == 0 ? 0 : bytesReceived / batchesReceived;
    }

    /** Produce requests sent again after a retriable failure. */
    public long retries() {
        return retries;
    }

    /**
     * Connections made again after one was lost: a producer retrying after a lost or failed
     * connection, a stream resuming on its partition's (new) leader.
     */
    public long reconnects() {
        return reconnects;
    }

    /** Produce requests sent and not answered yet. */
    public long inFlightRequests() {
        return inFlightRequests;
    }

    /**
     * Failures reported to the application, by code: a batch that failed for good (each of
     * its records' {@link ProduceOutput}s reports it), a stream's terminal error. Codes never
     * seen are absent.
     *
     * @return an unmodifiable map
     */
    public Map<FluvioException.Code, Long> errors() {
        return errors;
    }

    /** Round trips of produce requests. */
    public Latency sendLatency() {
        return sendLatency;
    }

    /**
     * From a received record's timestamp (set by its producer) to its arrival at the stream,
     * once per chunk received (its newest record): the end-to-end latency while consuming live
     * records, the records' age when reading history. Assumes producer and consumer clocks
     * agree.
     */
    public Latency fetchLatency() {
        return fetchLatency;
    }

    @Override
    public String toString() {
        return "FluvioMetrics[sent=" + recordsSent + " records/" + bytesSent + " bytes/" + batchesSent
                + " batches, received=" + recordsReceived + " records/" + bytesReceived + " bytes/" + batchesReceived
                + " batches, retries=" + retries + ", reconnects=" + reconnects + ", inFlight=" + inFlightRequests
                + ", errors=" + errors + ", send=" + sendLatency + ", fetch=" + fetchLatency + "]";
    }

    /**
     * Percentiles of durations, each within 12.5% (a histogram of 8 buckets per power of
     * two); all zero before any was recorded.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Latency {
        private final long count;
        private final Duration mean;
        private final Duration p50;
        private final Duration p90;
        private final Duration p99;
        private final Duration p999;
        private final Duration max;

        Latency(Unpacker in) {
            count = in.i64();
            mean = Duration.ofNanos(in.i64() * 1000);
            p50 = Duration.ofNanos(in.i64() * 1000);
            p90 = Duration.ofNanos(in.i64() * 1000);
            p99 = Duration.ofNanos(in.i64() * 1000);
            p999 = Duration.ofNanos(in.i64() * 1000);
            max = Duration.ofNanos(in.i64() * 1000);
        }

        /** How many durations were recorded. */
        public long count() {
            return count;
        }

        /** Their mean. */
        public Duration mean() {
            return mean;
        }

        /** The median. */
        public Duration p50() {
            return p50;
        }

        /** The 90th percentile. */
        public Duration p90() {
            return p90;
        }

        /** The 99th percentile. */
        public Duration p99() {
            return p99;
        }

        /** The 99.9th percentile. */
        public Duration p999() {
            return p999;
        }

        /** The longest. */
        public Duration max() {
            return max;
        }

        @Override
        public String toString() {
            return "Latency[count=" + count + ", mean=" + mean + ", p50=" + p50 + ", p99=" + p99 + ", max=" + max + "]";
        }
    }
}
