//! The two Rust clients behind one small interface, so every workload runs the same code for
//! both: our engine (`fluvio-engine`) and the official `fluvio` 0.50.1 client. Static dispatch
//! only, so the interface adds nothing per record.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use fluvio::consumer::{ConsumerConfigExtBuilder, Record as OfficialRecord};
use fluvio::{FluvioClusterConfig, FluvioError, RecordKey, TopicProducerConfigBuilder};
use fluvio_engine::{ClientConfig, Offset, PartitionStream, ProducerConfig};
use fluvio_protocol::link::ErrorCode;
use futures_util::StreamExt;

/// Producer settings every client gets (all else is each client's default).
#[derive(Clone, Copy)]
pub struct ProducerSettings {
    pub batch_size: usize,
    pub linger: Duration,
}

pub trait Client: Sync {
    type Producer: Producer;
    type Stream: Stream;

    /// The protocol's name of the client.
    const NAME: &'static str;
    /// The APIs it offers the workloads: `send`, `sendall`, `next`, `batch`.
    const APIS: &'static str;

    async fn producer(&self, topic: &str, settings: ProducerSettings) -> Result<Self::Producer>;

    /// A stream of partition 0 from its first record; with `to_end`, one that ends at the end
    /// of the partition where the client offers that (the official client: it may skip records,
    /// so it could wait for ever for a count it never reaches).
    async fn stream(&self, topic: &str, to_end: bool) -> Result<Self::Stream>;

    /// Our engine, for the administration the orchestrator asks of the engine's worker.
    fn engine(&self) -> Option<&fluvio_engine::Fluvio> {
        None
    }
}

pub trait Producer {
    type Output;

    async fn send(&self, value: &[u8]) -> Result<Self::Output>;

    /// Sends `values` through the client's call for many records; the last record's output.
    async fn send_all(&self, values: &[Vec<u8>]) -> Result<Option<Self::Output>>;

    /// Flushes, then waits for `last`'s acknowledgement: its offset.
    async fn finish(&self, last: Option<Self::Output>) -> Result<Option<i64>>;

    /// Batches and produce requests acknowledged so far, where the client counts them.
    fn request_counts(&self) -> Option<(u64, u64)> {
        None
    }
}

pub trait Stream {
    /// The next record, handed to `f` as (offset, value); `None` once the stream ended.
    async fn next<R>(&mut self, f: impl FnOnce(i64, &[u8]) -> R) -> Result<Option<R>>;

    /// The records already received (waiting for the first), each handed to `f`; 0 once the
    /// stream ended.
    async fn next_batch(&mut self, f: impl FnMut(i64, &[u8])) -> Result<usize> {
        let _ = f;
        bail!("this client has no batch read")
    }
}

// ---------------------------------------------------------------------------------------------
// Our engine

pub struct Engine(fluvio_engine::Fluvio);

impl Engine {
    pub async fn connect(endpoint: &str) -> Result<Self> {
        Ok(Self(fluvio_engine::Fluvio::connect_with_config(ClientConfig::new(endpoint)).await?))
    }
}

impl Client for Engine {
    type Producer = fluvio_engine::TopicProducer;
    type Stream = PartitionStream;

    const NAME: &'static str = "engine";
    const APIS: &'static str = "send,sendall,next,batch";

    async fn producer(&self, topic: &str, settings: ProducerSettings) -> Result<Self::Producer> {
        let config = ProducerConfig::builder().batch_size(settings.batch_size).linger(settings.linger).build()?;
        Ok(self.0.topic_producer_with_config(topic, config).await?)
    }

    async fn stream(&self, topic: &str, _to_end: bool) -> Result<Self::Stream> {
        Ok(self.0.partition_consumer(topic, 0).stream(Offset::beginning()).await?)
    }

    fn engine(&self) -> Option<&fluvio_engine::Fluvio> {
        Some(&self.0)
    }
}

impl Producer for fluvio_engine::TopicProducer {
    type Output = fluvio_engine::ProduceOutput;

    async fn send(&self, value: &[u8]) -> Result<Self::Output> {
        Ok(fluvio_engine::TopicProducer::send(self, None, value).await?)
    }

    async fn send_all(&self, values: &[Vec<u8>]) -> Result<Option<Self::Output>> {
        let outputs = fluvio_engine::TopicProducer::send_all(self, values.iter().map(|v| (None, v.as_slice()))).await?;
        Ok(outputs.into_iter().last())
    }

    fn request_counts(&self) -> Option<(u64, u64)> {
        let metrics = self.metrics();
        Some((metrics.batches_sent, metrics.send_latency.count))
    }

    async fn finish(&self, last: Option<Self::Output>) -> Result<Option<i64>> {
        self.flush().await?;
        match last {
            Some(output) => Ok(Some(output.wait().await?.offset)),
            None => Ok(None),
        }
    }
}

impl Stream for PartitionStream {
    async fn next<R>(&mut self, f: impl FnOnce(i64, &[u8]) -> R) -> Result<Option<R>> {
        match PartitionStream::next(self).await {
            Some(Ok(record)) => Ok(Some(f(record.offset, &record.value))),
            Some(Err(err)) => Err(err.into()),
            None => Ok(None),
        }
    }

    async fn next_batch(&mut self, mut f: impl FnMut(i64, &[u8])) -> Result<usize> {
        match fluvio_engine::RecordStream::next_batch(self, usize::MAX).await {
            Some(Ok(records)) => {
                for record in &records {
                    f(record.offset, &record.value);
                }
                Ok(records.len())
            }
            Some(Err(err)) => Err(err.into()),
            None => Ok(0),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The official client

pub struct Official(fluvio::Fluvio);

impl Official {
    pub async fn connect(endpoint: &str) -> Result<Self> {
        Ok(Self(fluvio::Fluvio::connect_with_config(&FluvioClusterConfig::new(endpoint)).await?))
    }
}

/// Its stream, boxed: the client's stream type cannot be named.
pub type OfficialStream = Pin<Box<dyn futures_util::Stream<Item = Result<OfficialRecord, ErrorCode>>>>;

impl Client for Official {
    type Producer = fluvio::TopicProducerPool;
    type Stream = OfficialStream;

    const NAME: &'static str = "official";
    const APIS: &'static str = "send,sendall,next";

    async fn producer(&self, topic: &str, settings: ProducerSettings) -> Result<Self::Producer> {
        let config =
            TopicProducerConfigBuilder::default().batch_size(settings.batch_size).linger(settings.linger).build()?;
        once_topic_known(|| self.0.topic_producer_with_config(topic, config.clone())).await
    }

    async fn stream(&self, topic: &str, to_end: bool) -> Result<Self::Stream> {
        let config = ConsumerConfigExtBuilder::default()
            .topic(topic)
            .partition(0)
            .offset_start(fluvio::Offset::beginning())
            .disable_continuous(to_end)
            .build()?;
        let stream = once_topic_known(|| self.0.consumer_with_config(config.clone())).await?;
        Ok(Box::pin(stream))
    }
}

/// Runs `attempt` again while the official client's metadata, fed by a watch, does not list a
/// topic that another process created a moment ago (for up to 10 s).
async fn once_topic_known<T, F>(mut attempt: impl FnMut() -> F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match attempt().await {
            Err(err)
                if matches!(err.downcast_ref::<FluvioError>(), Some(FluvioError::TopicNotFound(_)))
                    && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

impl Producer for fluvio::TopicProducerPool {
    type Output = fluvio::ProduceOutput;

    async fn send(&self, value: &[u8]) -> Result<Self::Output> {
        // The official API takes the value by ownership: one copy per record, as any caller pays.
        fluvio::TopicProducerPool::send(self, RecordKey::NULL, value.to_vec()).await
    }

    async fn send_all(&self, values: &[Vec<u8>]) -> Result<Option<Self::Output>> {
        let outputs =
            fluvio::TopicProducerPool::send_all(self, values.iter().map(|v| (RecordKey::NULL, v.clone()))).await?;
        Ok(outputs.into_iter().last())
    }

    async fn finish(&self, last: Option<Self::Output>) -> Result<Option<i64>> {
        self.flush().await?;
        match last {
            Some(output) => Ok(Some(output.wait().await?.offset())),
            None => Ok(None),
        }
    }
}

impl Stream for OfficialStream {
    async fn next<R>(&mut self, f: impl FnOnce(i64, &[u8]) -> R) -> Result<Option<R>> {
        match StreamExt::next(self).await {
            Some(Ok(record)) => Ok(Some(f(record.offset(), record.value()))),
            Some(Err(code)) => bail!("the official stream failed: {code:?}"),
            None => Ok(None),
        }
    }
}
