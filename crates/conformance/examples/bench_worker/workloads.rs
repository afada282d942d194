//! The workloads, one code path for both Rust clients. `BenchWorker.java` runs the same ones
//! through the Java API, with the same arguments, payload and answers.
//!
//! * `produce topic size api=send|sendall window_ms batch_size linger_ms`: sends records into
//!   an empty topic for `window_ms`, then flushes and waits for the last acknowledgement (which
//!   must be at the offset of the last record sent); the window ends there. `records`,
//!   `elapsed_ns`.
//! * `consume topic size records window_ms api=next|batch`: reads the topic (which holds
//!   `records` records) from its beginning, again and again, for `window_ms`, checking every
//!   record's size and sequence number. `records`, `elapsed_ns`, `passes`, `skipped` (records
//!   the client skipped: the official consumer skips the rest of a batch a push cuts).
//! * `latency topic size rate warmup_ms window_ms batch_size linger_ms`: an open-loop producer
//!   sends `rate` records a second on a fixed schedule while a stream of the same process reads
//!   them; each record's latency runs from the time it was due to be sent (not when it was, so
//!   a stalled sender cannot hide latency) until the stream hands it over. Percentiles in µs
//!   over the window's records; `late` counts the sends more than 1 ms behind schedule.
//! * `streams topic count settle_ms`: memory of `count` streams that fall behind (marks
//!   `before`, `open`, `closed`).
//! * Engine only: `create topic [partitions]`, `delete topic`, `fill topic size records`,
//!   `verify topic size records` (reads every record back: sizes, sequence numbers 0..records,
//!   and no record beyond), `topics prefix count every budget_ms` (creates one-partition topics
//!   until `count` or the first failure, with a mark every `every` topics).

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail, ensure};
use fluvio_engine::TopicConfig;

use crate::clients::{Client, Producer, ProducerSettings, Stream};
use crate::payload::{self, SENT_AT};
use crate::protocol::{Command, Reply, mark};

/// A latency workload's stream gives up after this long without a record: the rest is missing.
const QUIET: Duration = Duration::from_secs(10);
/// A send this far behind its schedule is counted as late.
const LATE_NANOS: u64 = 1_000_000;

/// Records per `sendall` call: up to 1,000 and up to 1 MiB.
fn slice_len(size: usize) -> usize {
    (1024 * 1024 / size).clamp(1, 1000)
}

/// Records between two looks at the clock: about 64 KiB of them.
fn clock_every(size: usize) -> u64 {
    (64 * 1024 / size).clamp(1, 256) as u64
}

pub struct Worker<C> {
    client: C,
    runtime: tokio::runtime::Handle,
    /// The zero of the payload's send times.
    base: Instant,
}

impl<C: Client> Worker<C> {
    pub fn new(client: C, runtime: tokio::runtime::Handle) -> Self {
        Self { client, runtime, base: Instant::now() }
    }

    pub fn run(&self, command: &Command) -> Result<Reply> {
        match command.name.as_str() {
            "hello" => Ok(Reply::default().with("client", C::NAME).with("apis", C::APIS)),
            "produce" => self.produce(command),
            "consume" => self.consume(command),
            "latency" => self.latency(command),
            "streams" => self.streams(command),
            "create" | "delete" | "fill" | "verify" | "topics" => self.admin(command),
            other => bail!("unknown command '{other}'"),
        }
    }

    fn now_nanos(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn produce(&self, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let size: usize = command.get("size")?;
        let api: String = command.get("api")?;
        let window = command.millis("window_ms")?;
        let settings = producer_settings(command)?;
        let every = clock_every(size);
        self.runtime.block_on(async {
            let producer = self.client.producer(&topic, settings).await?;
            let mut sent = 0u64;
            let mut last = None;
            mark("start");
            let started = Instant::now();
            match api.as_str() {
                "send" => {
                    let mut value = payload::new_value(size)?;
                    while started.elapsed() < window {
                        for _ in 0..every {
                            payload::put_u64(&mut value, 0, sent);
                            last = Some(producer.send(&value).await?);
                            sent += 1;
                        }
                    }
                }
                "sendall" => {
                    let mut slice = vec![payload::new_value(size)?; slice_len(size)];
                    while started.elapsed() < window {
                        for value in &mut slice {
                            payload::put_u64(value, 0, sent);
                            sent += 1;
                        }
                        last = producer.send_all(&slice).await?;
                    }
                }
                other => bail!("unknown produce api '{other}'"),
            }
            let last_offset = producer.finish(last).await?;
            let elapsed = started.elapsed();
            mark("end");
            let expected = sent.checked_sub(1).map(|offset| offset as i64);
            ensure!(
                last_offset == expected,
                "the last record sent ({expected:?}) was acknowledged at offset {last_offset:?}"
            );
            let reply = Reply::default().with("records", sent).with("elapsed_ns", elapsed.as_nanos());
            // How the producer cut its work: windows whose requests carry fewer batches run slower.
            Ok(match producer.request_counts() {
                Some((batches, requests)) => reply.with("batches", batches).with("requests", requests),
                None => reply,
            })
        })
    }

    fn consume(&self, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let size: usize = command.get("size")?;
        let records: i64 = command.get("records")?;
        let window = command.millis("window_ms")?;
        let batch = match command.get::<String>("api")?.as_str() {
            "next" => false,
            "batch" => true,
            other => bail!("unknown consume api '{other}'"),
        };
        let every = clock_every(size);
        self.runtime.block_on(async {
            let (mut read, mut skipped, mut passes) = (0u64, 0u64, 0u64);
            let mut done = false;
            mark("start");
            let started = Instant::now();
            while !done && started.elapsed() < window {
                let mut stream = self.client.stream(&topic, true).await?;
                let mut pass = Pass::new(size);
                passes += 1;
                while pass.next_offset < records {
                    if batch {
                        let mut failure = Ok(());
                        let count = stream
                            .next_batch(|offset, value| {
                                if failure.is_ok() {
                                    failure = pass.record(offset, value);
                                }
                            })
                            .await?;
                        failure?;
                        if count == 0 {
                            break;
                        }
                        done = started.elapsed() >= window;
                    } else {
                        match stream.next(|offset, value| pass.record(offset, value)).await? {
                            Some(checked) => checked?,
                            None => break,
                        }
                        done = pass.read.is_multiple_of(every) && started.elapsed() >= window;
                    }
                    if done {
                        break;
                    }
                }
                drop(stream);
                read += pass.read;
                skipped += pass.skipped;
            }
            let elapsed = started.elapsed();
            mark("end");
            Ok(Reply::default()
                .with("records", read)
                .with("elapsed_ns", elapsed.as_nanos())
                .with("passes", passes)
                .with("skipped", skipped))
        })
    }

    fn latency(&self, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let size: usize = command.get("size")?;
        let rate: u64 = command.get("rate")?;
        let warmup = command.get::<u64>("warmup_ms")? * rate / 1000;
        let total = warmup + command.get::<u64>("window_ms")? * rate / 1000;
        let settings = producer_settings(command)?;
        ensure!(rate > 0 && total > warmup, "latency: nothing to measure");
        let producer = self.runtime.block_on(self.client.producer(&topic, settings))?;
        let mut value = payload::new_value(size)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            let consumer = std::thread::Builder::new().name("bench-consumer".into()).spawn_scoped(scope, || {
                self.runtime.block_on(async {
                    let mut stream = self.client.stream(&topic, false).await?;
                    let _ = ready_tx.send(());
                    let mut latencies = Vec::with_capacity((total - warmup) as usize);
                    let mut received = 0u64;
                    while received < total {
                        let next =
                            stream.next(|_, value| (payload::get_u64(value, 0), payload::get_u64(value, SENT_AT)));
                        let Ok(next) = tokio::time::timeout(QUIET, next).await else { break };
                        let Some((seq, due)) = next? else { break };
                        let now = self.now_nanos();
                        if (warmup..total).contains(&seq) {
                            latencies.push(now.saturating_sub(due));
                        }
                        received += 1;
                    }
                    Ok::<_, anyhow::Error>((latencies, received))
                })
            })?;
            if ready_rx.recv().is_err() {
                // The stream failed to open: its error.
                return consumer.join().map_err(|_| anyhow!("the consumer thread panicked"))?.map(|_| Reply::default());
            }
            let start = self.now_nanos() + 1_000_000;
            let period = 1e9 / rate as f64;
            let mut late = 0u64;
            self.runtime.block_on(async {
                let mut last = None;
                for seq in 0..total {
                    if seq == warmup {
                        mark("start");
                    }
                    let due = start + (seq as f64 * period) as u64;
                    // Sleeping blocks only this thread, which drives nothing but this loop.
                    loop {
                        let now = self.now_nanos();
                        if now >= due {
                            late += u64::from(now - due > LATE_NANOS);
                            break;
                        }
                        std::thread::sleep(Duration::from_nanos(due - now));
                    }
                    payload::put_u64(&mut value, 0, seq);
                    payload::put_u64(&mut value, SENT_AT, due);
                    last = Some(producer.send(&value).await?);
                }
                mark("end");
                producer.finish(last).await
            })?;
            let (mut latencies, received) = consumer.join().map_err(|_| anyhow!("the consumer thread panicked"))??;
            latencies.sort_unstable();
            let micros = |q: f64| percentile(&latencies, q) as f64 / 1e3;
            let mean = latencies.iter().sum::<u64>() as f64 / latencies.len().max(1) as f64 / 1e3;
            Ok(Reply::default()
                .with("sent", total)
                .with("received", received)
                .with("measured", latencies.len())
                .with("late", late)
                .with("p50_us", micros(0.50))
                .with("p90_us", micros(0.90))
                .with("p99_us", micros(0.99))
                .with("p999_us", micros(0.999))
                .with("max_us", micros(1.0))
                .with("mean_us", format!("{mean:.1}")))
        })
    }

    fn streams(&self, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let count: usize = command.get("count")?;
        let settle = command.millis("settle_ms")?;
        self.runtime.block_on(async {
            mark("before");
            let mut streams = Vec::with_capacity(count);
            for _ in 0..count {
                let mut stream = self.client.stream(&topic, false).await?;
                stream.next(|_, _| ()).await?.ok_or_else(|| anyhow!("the stream ended"))?;
                streams.push(stream);
            }
            tokio::time::sleep(settle).await;
            mark("open");
            drop(streams);
            tokio::time::sleep(settle).await;
            mark("closed");
            Ok(Reply::default().with("streams", count))
        })
    }

    fn admin(&self, command: &Command) -> Result<Reply> {
        let Some(engine) = self.client.engine() else { bail!("'{}' is done by the engine's worker", command.name) };
        let admin = engine.admin();
        self.runtime.block_on(async {
            match command.name.as_str() {
                "create" => {
                    let partitions = command.get_or("partitions", 1)?;
                    admin.create_topic(&command.get::<String>("topic")?, &TopicConfig::new(partitions, 1)).await?;
                    Ok(Reply::default())
                }
                "delete" => {
                    admin.delete_topic(&command.get::<String>("topic")?).await?;
                    Ok(Reply::default())
                }
                "fill" => self.fill(command).await,
                "verify" => self.verify(engine, command).await,
                "topics" => self.topics(&admin, command).await,
                other => bail!("unknown command '{other}'"),
            }
        })
    }

    /// Writes `records` records numbered from 0 (as fast as the client goes).
    async fn fill(&self, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let size: usize = command.get("size")?;
        let records: u64 = command.get("records")?;
        let producer = self.client.producer(&topic, producer_settings(command)?).await?;
        let mut value = payload::new_value(size)?;
        let mut last = None;
        for seq in 0..records {
            payload::put_u64(&mut value, 0, seq);
            last = Some(producer.send(&value).await?);
        }
        let last_offset = producer.finish(last).await?;
        ensure!(last_offset == records.checked_sub(1).map(|o| o as i64), "fill: last offset {last_offset:?}");
        Ok(Reply::default().with("records", records))
    }

    /// Reads a produced topic back: `records` records of `size` bytes numbered 0.., no more.
    async fn verify(&self, engine: &fluvio_engine::Fluvio, command: &Command) -> Result<Reply> {
        let topic: String = command.get("topic")?;
        let size: usize = command.get("size")?;
        let records: i64 = command.get("records")?;
        let started = Instant::now();
        let mut stream = self.client.stream(&topic, true).await?;
        let mut pass = Pass::new(size);
        while pass.next_offset < records {
            stream
                .next(|offset, value| pass.record(offset, value))
                .await?
                .ok_or_else(|| anyhow!("{topic}: the stream ended after {} of {records} records", pass.read))??;
        }
        ensure!(pass.skipped == 0, "{topic}: {} records missing", pass.skipped);
        let (_, end) = engine.partition_consumer(&topic, 0).offsets().await?;
        ensure!(end == records, "{topic}: {end} records stored, {records} sent");
        Ok(Reply::default().with("records", pass.read).with("elapsed_ns", started.elapsed().as_nanos()))
    }

    /// Creates one-partition topics until `count` or the first failure (an answer, not an
    /// error: how far it got is the figure).
    async fn topics(&self, admin: &fluvio_engine::FluvioAdmin, command: &Command) -> Result<Reply> {
        let prefix: String = command.get("prefix")?;
        let count: u64 = command.get("count")?;
        let every: u64 = command.get("every")?;
        let budget = command.millis("budget_ms")?;
        let started = Instant::now();
        let mut created = 0;
        let mut failure = None;
        while created < count {
            if let Err(err) = admin.create_topic(&format!("{prefix}-{created}"), &TopicConfig::new(1, 1)).await {
                failure = Some(format!("{:?}: {err}", err.kind()));
                break;
            }
            created += 1;
            if created.is_multiple_of(every) {
                mark(&format!("created-{created}"));
            }
            if started.elapsed() > budget {
                failure = Some(format!("stopped after the budget of {budget:?}"));
                break;
            }
        }
        let elapsed = started.elapsed();
        let reply = Reply::default().with("created", created).with("elapsed_ns", elapsed.as_nanos());
        Ok(match failure {
            // `note` comes last: its value is the rest of the line.
            Some(note) => reply.with("failed", true).with("note", note.replace('\n', " ")),
            None => reply.with("failed", false),
        })
    }
}

fn producer_settings(command: &Command) -> Result<ProducerSettings> {
    Ok(ProducerSettings {
        batch_size: command.get_or("batch_size", 16384)?,
        linger: Duration::from_millis(command.get_or("linger_ms", 0)?),
    })
}

/// One read through a topic: counts the records and checks each (its size, and its sequence
/// number against its offset). Records the client skipped are counted, not refused.
struct Pass {
    size: usize,
    next_offset: i64,
    read: u64,
    skipped: u64,
}

impl Pass {
    fn new(size: usize) -> Self {
        Self { size, next_offset: 0, read: 0, skipped: 0 }
    }

    fn record(&mut self, offset: i64, value: &[u8]) -> Result<()> {
        ensure!(value.len() == self.size, "offset {offset}: {} bytes, not {}", value.len(), self.size);
        ensure!(offset >= self.next_offset, "offset {offset} came again or out of order");
        ensure!(payload::get_u64(value, 0) == offset as u64, "offset {offset} holds another record");
        self.skipped += (offset - self.next_offset) as u64;
        self.next_offset = offset + 1;
        self.read += 1;
        Ok(())
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 for none.
fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
