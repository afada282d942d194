//! Fluvio's binary wire protocol (the protocol of the official 0.50 client and servers).
//!
//! * [`codec`]: the [`Encoder`]/[`Decoder`] traits and primitive encodings;
//! * [`frame`]: length-prefixed frames with a maximum size;
//! * [`api`]: request headers, whole-message helpers and ApiVersions;
//! * [`record`]: records, batches and record sets, with [`compression`];
//! * [`spu`]: Produce, FetchOffsets, StreamFetch, UpdateOffsets;
//! * [`consumer_offset`]: the consumer-offset requests and what the `consumer-offset` topic holds;
//! * [`sc`]: Create, Delete, List, Watch and Update for topics, partitions and SPUs;
//! * [`replication`]: the SPU-to-SPU API of `fluvio-local` (not part of Fluvio's protocol).
//!
//! The crate does no I/O. Decoding never panics and never allocates more than its input can
//! justify; encoding refuses values the official decoder could not read.

#![warn(missing_docs)]

pub mod api;
pub mod codec;
pub mod compression;
pub mod consumer_offset;
pub mod error;
pub mod error_code;
pub mod frame;
pub mod record;
pub mod replication;
pub mod sc;
pub mod smartmodule;
pub mod spu;

pub use bytes;

pub use api::{ApiVersionsRequest, ApiVersionsResponse, Request, RequestHeader};
pub use codec::{Decoder, Encoder, Version};
pub use compression::Compression;
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use error_code::ErrorCode;
pub use frame::{FrameDecoder, FrameError};
pub use record::{RawBatch, Record, RecordSet, SendableBatch};
