package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Flow;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The {@link Flow.Publisher} behind {@link PartitionConsumer#publisher} and
 * {@link TopicConsumer#publisher}: each subscription opens its own {@link ConsumerStream} and a
 * drain task on the executor moves records from it to the subscriber, as many as requested.
 *
 * <p>How the drain task uses threads: it runs only while the subscription has something to do
 * (open the stream, deliver requested records, signal an error). Waiting for records, it blocks
 * in {@link ConsumerStream#next(Duration)} for at most {@link #WAIT_SLICE} at a time, then
 * submits itself to the executor again, so a bounded executor is shared fairly between
 * subscriptions; after {@link #RECORDS_PER_RUN} records it does the same. With no outstanding
 * demand it ends and holds no thread. {@link Flow.Subscription#cancel()} closes the stream at
 * once, which wakes a waiting read.
 *
 * <p>Signals are serial: only the task that wins the {@code wip} counter signals, and
 * {@code onSubscribe} returns before it may start.
 *
 * <p>Thread-safety: thread-safe; so are its subscriptions (Reactive Streams rules 2.7, 3.x).
 */
final class ConsumerPublisher implements Flow.Publisher<Record> {
    /** The longest a drain task waits in native code for a record before giving its thread back. */
    static final Duration WAIT_SLICE = Duration.ofMillis(100);
    /** The most records a drain task delivers before giving its thread back. */
    static final int RECORDS_PER_RUN = 1024;

    private final Supplier<? extends ConsumerStream> opener;
    private final Executor executor;
    private final Duration waitSlice;
    private final long limit;

    ConsumerPublisher(Supplier<? extends ConsumerStream> opener, Executor executor) {
        this(opener, executor, WAIT_SLICE, Long.MAX_VALUE);
    }

    /**
     * A publisher with a chosen wait slice, and a limit after which it completes.
     *
     * @param limit records per subscription before {@code onComplete}; {@code Long.MAX_VALUE}:
     *     none (a stream never completes by itself). Only tests set a limit, to run the
     *     Reactive Streams TCK's rules about completion against the drain loop.
     */
    ConsumerPublisher(Supplier<? extends ConsumerStream> opener, Executor executor, Duration waitSlice, long limit) {
        this.opener = Objects.requireNonNull(opener, "opener");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.waitSlice = Checks.notNegative(waitSlice, "waitSlice");
        this.limit = Checks.notNegative(limit, "limit");
    }

    /**
     * A publisher of the streams {@code stream.open(offset, config)} opens, one per
     * subscription, run by {@code executor}: what {@code publisher(offset, config, executor)} of
     * {@link PartitionConsumer} and {@link TopicConsumer} returns.
     */
    static ConsumerPublisher of(Offset offset, ConsumerConfig config, Executor executor, StreamOpener stream) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(executor, "executor");
        return new ConsumerPublisher(() -> stream.open(offset, config), executor);
    }

    /** How a consumer opens a stream ({@code PartitionConsumer::stream}, {@code TopicConsumer::stream}). */
    @FunctionalInterface
    interface StreamOpener {
        ConsumerStream open(Offset offset, ConsumerConfig config);
    }

    /** This publisher completing each subscription after {@code records} records. */
    ConsumerPublisher limit(long records) {
        return new ConsumerPublisher(opener, executor, waitSlice, records);
    }

    /**
     * The executor used when none is given: daemon threads named {@code fluvio-publisher-<n>},
     * made as needed, ended after 60 s idle.
     */
    static Executor defaultExecutor() {
        return DefaultExecutor.INSTANCE;
    }

    /**
     * Subscribes: calls {@code onSubscribe} on the calling thread, then opens a stream on the
     * executor. Every subscriber gets its own stream from the publisher's offset.
     *
     * @param subscriber the subscriber
     * @throws NullPointerException when {@code subscriber} is null (rule 1.9)
     */
    @Override
    public void subscribe(Flow.Subscriber<? super Record> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        new RecordSubscription(this, subscriber).start();
    }

    @Override
    public String toString() {
        return "ConsumerPublisher[" + (limit == Long.MAX_VALUE ? "" : "limit=" + limit + ", ") + "executor=" + executor
                + "]";
    }

    private static final class DefaultExecutor {
        static final Executor INSTANCE = create();

        private static Executor create() {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory threads = task -> {
                Thread thread = new Thread(task, "fluvio-publisher-" + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            };
            return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), threads);
        }
    }

    /** A drain loop running on a thread (the only thread that reads or writes it). */
    private static final class DrainRun {
        final RecordSubscription subscription;
        boolean rerun;

        DrainRun(RecordSubscription subscription) {
            this.subscription = subscription;
        }
    }

    /** What one pass of the drain loop left behind. */
    private enum Pass {
        /** Nothing to do until the next request or cancel. */
        IDLE,
        /** More to do (demand is left): run again on the executor. */
        YIELDED,
        /** A terminal signal was sent or the subscription was cancelled: never run again. */
        FINISHED
    }

    /**
     * One subscription. {@link #wip} counts requests to drain; the thread that raises it from 0
     * owns the subscriber until it brings it back to 0, so signals never overlap (rule 1.3) and
     * a {@code request} from {@code onNext} only raises the count (rule 3.3). A finished
     * subscription keeps the count above 0 forever, so it never runs again.
     */
    private static final class RecordSubscription implements Flow.Subscription, Runnable {
        /** The drain loop running on this thread, to trampoline an executor that runs tasks in place. */
        private static final ThreadLocal<DrainRun> DRAINING = new ThreadLocal<>();

        private final ConsumerPublisher publisher;
        /** 1 while {@code onSubscribe} runs: nothing else may signal before it returns. */
        private final AtomicInteger wip = new AtomicInteger(1);
        private final AtomicLong requested = new AtomicLong();
        /** Cancelled, or a terminal signal sent: requests and cancels are no-ops (rules 3.6, 3.7). */
        private volatile boolean done;
        private volatile boolean invalidRequest;
        private volatile long invalidAmount;
        private volatile @Nullable ConsumerStream stream;
        /** Used only by the thread owning {@link #wip}; null once finished (rule 3.13). */
        private Flow.@Nullable Subscriber<? super Record> subscriber;
        private long delivered;

        RecordSubscription(ConsumerPublisher publisher, Flow.Subscriber<? super Record> subscriber) {
            this.publisher = publisher;
            this.subscriber = subscriber;
        }

        void start() {
            Flow.Subscriber<? super Record> target = Objects.requireNonNull(subscriber);
            try {
                target.onSubscribe(this);
            } catch (Throwable failure) {
                // Rule 2.13: a subscriber that throws has cancelled; no stream was opened yet.
                done = true;
                subscriber = null;
                reportSubscriberFailure(failure);
                return;
            }
            resume();
        }

        @Override
        public void request(long n) {
            if (done) {
                return;
            }
            if (n <= 0) {
                invalidAmount = n;
                invalidRequest = true;
            } else {
                addDemand(n);
            }
            schedule();
        }

        @Override
        public void cancel() {
            if (done) {
                return;
            }
            done = true;
            // Wakes a drain task waiting in next(); if the stream is still being opened, the
            // drain task sees `done` once it has it, and closes it.
            ConsumerStream current = stream;
            if (current != null) {
                current.close();
            }
            schedule();
        }

        private void addDemand(long n) {
            while (true) {
                long current = requested.get();
                if (current == Long.MAX_VALUE) {
                    return;
                }
                long next = current + n;
                if (next < 0) {
                    next = Long.MAX_VALUE; // rule 3.17: effectively unbounded
                }
                if (requested.compareAndSet(current, next)) {
                    return;
                }
            }
        }

        private void schedule() {
            if (wip.getAndIncrement() == 0) {
                resume();
            }
        }

        /** Runs the drain loop on the executor; the caller owns {@link #wip}. */
        private void resume() {
            try {
                publisher.executor.execute(this);
            } catch (RuntimeException rejected) {
                // Nothing runs for this subscription: the caller still owns it and may signal.
                Flow.Subscriber<? super Record> target = subscriber;
                if (target != null && !done) {
                    finish(target, rejected);
                } else {
                    release();
                }
            }
        }

        @Override
        public void run() {
            DrainRun outer = DRAINING.get();
            if (outer != null && outer.subscription == this) {
                // The executor ran us inside execute(), on the draining thread (e.g. a caller-runs
                // policy): the loop below goes round again instead of nesting.
                outer.rerun = true;
                return;
            }
            DrainRun current = new DrainRun(this);
            DRAINING.set(current);
            try {
                drainLoop(current);
            } finally {
                if (outer == null) {
                    DRAINING.remove();
                } else {
                    DRAINING.set(outer);
                }
            }
        }

        private void drainLoop(DrainRun current) {
            int missed = wip.get();
            while (true) {
                Pass pass = drain();
                if (pass == Pass.FINISHED) {
                    return;
                }
                if (pass == Pass.YIELDED) {
                    current.rerun = false;
                    resume();
                    if (current.rerun) {
                        missed = wip.get();
                        continue;
                    }
                    return;
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private Pass drain() {
            Flow.Subscriber<? super Record> target = subscriber;
            if (target == null) {
                return Pass.FINISHED;
            }
            if (done) {
                release();
                return Pass.FINISHED;
            }
            if (delivered == publisher.limit) {
                finish(target, null);
                return Pass.FINISHED;
            }
            ConsumerStream current = stream;
            if (current == null) {
                try {
                    current = Objects.requireNonNull(publisher.opener.get(), "opened stream");
                } catch (RuntimeException failure) {
                    finish(target, failure);
                    return Pass.FINISHED;
                }
                stream = current;
                if (done) {
                    // cancel() ran while the stream was being opened and could not close it.
                    release();
                    return Pass.FINISHED;
                }
            }
            for (int emitted = 0; emitted < RECORDS_PER_RUN; emitted++) {
                if (done) {
                    release();
                    return Pass.FINISHED;
                }
                if (invalidRequest) {
                    finish(target, new IllegalArgumentException("request(n) needs n > 0, not " + invalidAmount
                            + ": a non-positive subscription request (Reactive Streams rule 3.9)"));
                    return Pass.FINISHED;
                }
                if (delivered == publisher.limit) {
                    finish(target, null);
                    return Pass.FINISHED;
                }
                long demand = requested.get();
                if (demand == 0) {
                    return Pass.IDLE;
                }
                Record record;
                try {
                    record = current.next(publisher.waitSlice);
                } catch (RuntimeException failure) {
                    if (done) {
                        // cancel() closed the stream under the read: not a failure.
                        release();
                    } else {
                        finish(target, failure);
                    }
                    return Pass.FINISHED;
                }
                if (record == null) {
                    if (current.isEnded()) {
                        finish(target, null);
                        return Pass.FINISHED;
                    }
                    return Pass.YIELDED;
                }
                if (demand != Long.MAX_VALUE) {
                    requested.decrementAndGet();
                }
                delivered++;
                try {
                    target.onNext(record);
                } catch (Throwable failure) {
                    done = true;
                    release();
                    reportSubscriberFailure(failure);
                    return Pass.FINISHED;
                }
            }
            return Pass.YIELDED;
        }

        /**
         * Closes the stream, then sends the terminal signal: {@code onError(failure)}, or
         * {@code onComplete()} when {@code failure} is null.
         */
        private void finish(Flow.Subscriber<? super Record> target, @Nullable Throwable failure) {
            done = true;
            release();
            try {
                if (failure == null) {
                    target.onComplete();
                } else {
                    target.onError(failure);
                }
            } catch (Throwable thrown) {
                reportSubscriberFailure(thrown);
            }
        }

        /** Closes the stream and lets go of the subscriber (rule 3.13). */
        private void release() {
            subscriber = null;
            ConsumerStream current = stream;
            if (current != null) {
                current.close();
            }
        }

        /**
         * Rule 2.13: a subscriber's method threw. The subscription is cancelled; the error goes
         * to the thread's uncaught exception handler, as nobody else can take it.
         */
        private static void reportSubscriberFailure(Throwable failure) {
            Thread thread = Thread.currentThread();
            thread.getUncaughtExceptionHandler().uncaughtException(thread, failure);
        }
    }
}
