//! The Fluvio client engine: everything the Fluvio client library does, over Fluvio's own wire
//! protocol, for async Rust and for language bindings.
//!
//! ```no_run
//! use fluvio_engine::{ClientConfig, Fluvio, Offset, TopicConfig};
//!
//! # async fn demo() -> fluvio_engine::Result<()> {
//! let fluvio = Fluvio::connect_with_config(ClientConfig::new("127.0.0.1:9003")).await?;
//! fluvio.admin().create_topic("greetings", &TopicConfig::new(1, 1)).await?;
//!
//! let producer = fluvio.topic_producer("greetings").await?;
//! let output = producer.send(Some(b"key"), b"hello").await?;
//! producer.flush().await?;
//! println!("stored at {:?}", output.wait().await?);
//!
//! let mut stream = fluvio.partition_consumer("greetings", 0).stream(Offset::beginning()).await?;
//! if let Some(record) = stream.next().await {
//!     println!("{:?}", record?.value);
//! }
//! # Ok(()) }
//! ```
//!
//! * [`Fluvio`]: one client per cluster, from a profile or explicit [`ClientConfig`];
//! * [`admin::FluvioAdmin`]: topics, partitions, SPUs, with JSON and YAML rendering;
//! * [`TopicProducer`]: batching, compression, partitioning, backpressure, retries;
//! * [`PartitionConsumer`] / [`TopicConsumer`]: continuous streams and one-shot fetches.
//!
//! Every fallible call returns [`Error`], whose [`ErrorKind`] is stable and whose
//! [`Error::is_retriable`] tells whether trying again may help. The engine runs on tokio: call
//! it from within a tokio runtime.

#![warn(missing_docs)]

pub mod admin;
mod client;
pub mod config;
pub mod consumer;
pub mod error;
mod metadata;
pub mod metrics;
pub mod producer;
mod router;
mod socket;
mod stored_offsets;
mod tls;

pub use admin::{FluvioAdmin, TopicConfig};
pub use client::Fluvio;
pub use config::ClientConfig;
pub use consumer::{
    BufferedBytes, ConsumerConfig, ConsumerRecord, Offset, OffsetStrategy, PartitionConsumer, PartitionStream,
    RecordRef, RecordStream, StreamOffsets, TopicConsumer, TopicStream,
};
pub use error::{Error, ErrorKind, Result, TlsFailure};
pub use metrics::{LatencySnapshot, Metrics, MetricsSnapshot};
pub use producer::{ProduceOutput, ProducerConfig, RecordMetadata, TopicProducer};

pub use fluvio_wire::Compression;
pub use fluvio_wire::spu::Isolation;
