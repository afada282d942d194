//! SPU APIs: SmartModule invocations, Produce, FetchOffsets, StreamFetch, UpdateOffsets.

#![allow(deprecated)] // FetchOffsetsRequest::consumer_id is deprecated upstream but on the wire at v23.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::marker::PhantomData;
use std::time::Duration;

use fluvio_protocol::record::{RawRecords, RecordSet as TheirRecordSet};
use fluvio_protocol::{Decoder as TheirDecoder, Encoder as TheirEncoder, Version};
use fluvio_smartmodule::dataplane::smartmodule::{Lookback as TheirLookback, SmartModuleExtraParams};
use fluvio_spu_schema::Isolation as TheirIsolation;
use fluvio_spu_schema::fetch::{AbortedTransaction as TheirAborted, FetchablePartitionResponse as TheirFetchable};
use fluvio_spu_schema::produce as tp;
use fluvio_spu_schema::server::fetch_offset as tfo;
use fluvio_spu_schema::server::smartmodule::{
    SmartModuleContextData, SmartModuleInvocation as TheirInvocation, SmartModuleInvocationWasm,
    SmartModuleKind as TheirKind,
};
use fluvio_spu_schema::server::stream_fetch::{DefaultStreamFetchRequest, DefaultStreamFetchResponse};
use fluvio_spu_schema::server::update_offset as tuo;
use fluvio_wire::codec::ByteVec;
use fluvio_wire::smartmodule::{
    DerivedStreamInvocation, Lookback, SmartModuleContext, SmartModuleInvocation, SmartModuleKind, SmartModuleParams,
    SmartModuleWasm,
};
use fluvio_wire::spu::*;

use super::{ToOurs, ToTheirs};

type TheirSet = TheirRecordSet<RawRecords>;

// ---------------------------------------------------------------------------------------------
// SmartModule invocations

impl ToTheirs for SmartModuleWasm {
    type Theirs = SmartModuleInvocationWasm;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            SmartModuleWasm::Predefined(name) => SmartModuleInvocationWasm::Predefined(name.clone()),
            SmartModuleWasm::AdHoc(wasm) => SmartModuleInvocationWasm::AdHoc(wasm.0.to_vec()),
        }
    }
}

impl ToOurs for SmartModuleInvocationWasm {
    type Ours = SmartModuleWasm;
    fn to_ours(self) -> SmartModuleWasm {
        match self {
            SmartModuleInvocationWasm::Predefined(name) => SmartModuleWasm::Predefined(name),
            SmartModuleInvocationWasm::AdHoc(wasm) => SmartModuleWasm::AdHoc(ByteVec(wasm.into())),
        }
    }
}

impl ToTheirs for SmartModuleContext {
    type Theirs = SmartModuleContextData;
    fn to_theirs(&self) -> Self::Theirs {
        match self.clone() {
            SmartModuleContext::None => SmartModuleContextData::None,
            SmartModuleContext::Aggregate { accumulator } => {
                SmartModuleContextData::Aggregate { accumulator: accumulator.0.to_vec() }
            }
            SmartModuleContext::Join(topic) => SmartModuleContextData::Join(topic),
            SmartModuleContext::JoinStream { topic, derivedstream } => {
                SmartModuleContextData::JoinStream { topic, derivedstream }
            }
        }
    }
}

impl ToOurs for SmartModuleContextData {
    type Ours = SmartModuleContext;
    fn to_ours(self) -> SmartModuleContext {
        match self {
            SmartModuleContextData::None => SmartModuleContext::None,
            SmartModuleContextData::Aggregate { accumulator } => {
                SmartModuleContext::Aggregate { accumulator: ByteVec(accumulator.into()) }
            }
            SmartModuleContextData::Join(topic) => SmartModuleContext::Join(topic),
            SmartModuleContextData::JoinStream { topic, derivedstream } => {
                SmartModuleContext::JoinStream { topic, derivedstream }
            }
        }
    }
}

impl ToTheirs for SmartModuleKind {
    type Theirs = TheirKind;
    fn to_theirs(&self) -> TheirKind {
        match self.clone() {
            SmartModuleKind::Filter => TheirKind::Filter,
            SmartModuleKind::Map => TheirKind::Map,
            SmartModuleKind::ArrayMap => TheirKind::ArrayMap,
            SmartModuleKind::Aggregate { accumulator } => TheirKind::Aggregate { accumulator: accumulator.0.to_vec() },
            SmartModuleKind::FilterMap => TheirKind::FilterMap,
            SmartModuleKind::Join(topic) => TheirKind::Join(topic),
            SmartModuleKind::JoinStream { topic, derivedstream } => TheirKind::JoinStream { topic, derivedstream },
            SmartModuleKind::Generic(context) => TheirKind::Generic(context.to_theirs()),
        }
    }
}

impl ToOurs for TheirKind {
    type Ours = SmartModuleKind;
    fn to_ours(self) -> SmartModuleKind {
        match self {
            TheirKind::Filter => SmartModuleKind::Filter,
            TheirKind::Map => SmartModuleKind::Map,
            TheirKind::ArrayMap => SmartModuleKind::ArrayMap,
            TheirKind::Aggregate { accumulator } => {
                SmartModuleKind::Aggregate { accumulator: ByteVec(accumulator.into()) }
            }
            TheirKind::FilterMap => SmartModuleKind::FilterMap,
            TheirKind::Join(topic) => SmartModuleKind::Join(topic),
            TheirKind::JoinStream { topic, derivedstream } => SmartModuleKind::JoinStream { topic, derivedstream },
            TheirKind::Generic(context) => SmartModuleKind::Generic(context.to_ours()),
        }
    }
}

impl ToTheirs for Lookback {
    type Theirs = TheirLookback;
    fn to_theirs(&self) -> TheirLookback {
        TheirLookback { last: self.last, age: self.age }
    }
}

impl ToOurs for TheirLookback {
    type Ours = Lookback;
    fn to_ours(self) -> Lookback {
        Lookback { last: self.last, age: self.age }
    }
}

impl ToTheirs for SmartModuleParams {
    type Theirs = SmartModuleExtraParams;
    fn to_theirs(&self) -> Self::Theirs {
        SmartModuleExtraParams::new(self.params.clone(), self.lookback.to_theirs())
    }
}

impl ToOurs for SmartModuleExtraParams {
    type Ours = SmartModuleParams;
    fn to_ours(self) -> SmartModuleParams {
        // The parameter map is private upstream and has only a by-key getter. At version 0 the
        // official encoding of the params is exactly that map, so read it back with the official
        // map decoder.
        let map_bytes = self.as_bytes(0).expect("encode params");
        let params = BTreeMap::<String, String>::decode_from(&mut Cursor::new(map_bytes), 0).expect("decode map");
        SmartModuleParams { params, lookback: self.lookback().cloned().to_ours() }
    }
}

impl ToTheirs for SmartModuleInvocation {
    type Theirs = TheirInvocation;
    fn to_theirs(&self) -> TheirInvocation {
        TheirInvocation {
            wasm: self.wasm.to_theirs(),
            kind: self.kind.to_theirs(),
            params: self.params.to_theirs(),
            name: self.name.clone(),
        }
    }
}

impl ToOurs for TheirInvocation {
    type Ours = SmartModuleInvocation;
    fn to_ours(self) -> SmartModuleInvocation {
        SmartModuleInvocation {
            wasm: self.wasm.to_ours(),
            kind: self.kind.to_ours(),
            params: self.params.to_ours(),
            name: self.name,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Produce

impl ToTheirs for Isolation {
    type Theirs = TheirIsolation;
    fn to_theirs(&self) -> TheirIsolation {
        match self {
            Isolation::ReadUncommitted => TheirIsolation::ReadUncommitted,
            Isolation::ReadCommitted => TheirIsolation::ReadCommitted,
        }
    }
}

impl ToOurs for TheirIsolation {
    type Ours = Isolation;
    fn to_ours(self) -> Isolation {
        match self {
            TheirIsolation::ReadUncommitted => Isolation::ReadUncommitted,
            TheirIsolation::ReadCommitted => Isolation::ReadCommitted,
        }
    }
}

impl ToTheirs for PartitionProduceData {
    type Theirs = tp::PartitionProduceData<TheirSet>;
    fn to_theirs(&self) -> Self::Theirs {
        tp::PartitionProduceData { partition_index: self.partition_index, records: self.records.to_theirs() }
    }
}

impl ToOurs for tp::PartitionProduceData<TheirSet> {
    type Ours = PartitionProduceData;
    fn to_ours(self) -> PartitionProduceData {
        PartitionProduceData { partition_index: self.partition_index, records: self.records.to_ours() }
    }
}

impl ToTheirs for TopicProduceData {
    type Theirs = tp::TopicProduceData<TheirSet>;
    fn to_theirs(&self) -> Self::Theirs {
        tp::TopicProduceData { name: self.name.clone(), partitions: self.partitions.to_theirs(), data: PhantomData }
    }
}

impl ToOurs for tp::TopicProduceData<TheirSet> {
    type Ours = TopicProduceData;
    fn to_ours(self) -> TopicProduceData {
        TopicProduceData { name: self.name, partitions: self.partitions.to_ours() }
    }
}

impl ToTheirs for ProduceRequest {
    type Theirs = tp::DefaultProduceRequest;
    fn to_theirs(&self) -> Self::Theirs {
        // The official request holds the timeout as a Duration: only non-negative values exist.
        let timeout_ms = u64::try_from(self.timeout_ms).expect("the official timeout cannot be negative");
        tp::DefaultProduceRequest {
            transactional_id: self.transactional_id.clone(),
            isolation: self.isolation.0.to_theirs(),
            timeout: Duration::from_millis(timeout_ms),
            topics: self.topics.to_theirs(),
            smartmodules: self.smartmodules.to_theirs(),
            data: PhantomData,
        }
    }
}

impl ToOurs for tp::DefaultProduceRequest {
    type Ours = ProduceRequest;
    fn to_ours(self) -> ProduceRequest {
        ProduceRequest {
            transactional_id: self.transactional_id,
            isolation: ProduceAcks(self.isolation.to_ours()),
            timeout_ms: i32::try_from(self.timeout.as_millis()).expect("timeout fits i32"),
            topics: self.topics.to_ours(),
            smartmodules: self.smartmodules.to_ours(),
        }
    }
}

impl ToTheirs for PartitionProduceResponse {
    type Theirs = tp::PartitionProduceResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tp::PartitionProduceResponse {
            partition_index: self.partition_index,
            error_code: self.error_code.to_theirs(),
            base_offset: self.base_offset,
            log_append_time_ms: self.log_append_time_ms,
            log_start_offset: self.log_start_offset,
        }
    }
}

impl ToOurs for tp::PartitionProduceResponse {
    type Ours = PartitionProduceResponse;
    fn to_ours(self) -> PartitionProduceResponse {
        PartitionProduceResponse {
            partition_index: self.partition_index,
            error_code: self.error_code.to_ours(),
            base_offset: self.base_offset,
            log_append_time_ms: self.log_append_time_ms,
            log_start_offset: self.log_start_offset,
        }
    }
}

impl ToTheirs for TopicProduceResponse {
    type Theirs = tp::TopicProduceResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tp::TopicProduceResponse { name: self.name.clone(), partitions: self.partitions.to_theirs() }
    }
}

impl ToOurs for tp::TopicProduceResponse {
    type Ours = TopicProduceResponse;
    fn to_ours(self) -> TopicProduceResponse {
        TopicProduceResponse { name: self.name, partitions: self.partitions.to_ours() }
    }
}

impl ToTheirs for ProduceResponse {
    type Theirs = tp::ProduceResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tp::ProduceResponse { responses: self.responses.to_theirs(), throttle_time_ms: self.throttle_time_ms }
    }
}

impl ToOurs for tp::ProduceResponse {
    type Ours = ProduceResponse;
    fn to_ours(self) -> ProduceResponse {
        ProduceResponse { responses: self.responses.to_ours(), throttle_time_ms: self.throttle_time_ms }
    }
}

// ---------------------------------------------------------------------------------------------
// FetchOffsets

impl ToTheirs for FetchOffsetsRequest {
    type Theirs = tfo::FetchOffsetsRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tfo::FetchOffsetsRequest {
            topics: self
                .topics
                .iter()
                .map(|t| tfo::FetchOffsetTopic {
                    name: t.name.clone(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| tfo::FetchOffsetPartition { partition_index: p.partition_index })
                        .collect(),
                })
                .collect(),
            consumer_id: self.consumer_id.clone(),
        }
    }
}

impl ToOurs for tfo::FetchOffsetsRequest {
    type Ours = FetchOffsetsRequest;
    fn to_ours(self) -> FetchOffsetsRequest {
        FetchOffsetsRequest {
            topics: self
                .topics
                .into_iter()
                .map(|t| FetchOffsetTopic {
                    name: t.name,
                    partitions: t
                        .partitions
                        .into_iter()
                        .map(|p| FetchOffsetPartition { partition_index: p.partition_index })
                        .collect(),
                })
                .collect(),
            consumer_id: self.consumer_id,
        }
    }
}

impl ToTheirs for FetchOffsetsResponse {
    type Theirs = tfo::FetchOffsetsResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tfo::FetchOffsetsResponse {
            topics: self
                .topics
                .iter()
                .map(|t| tfo::FetchOffsetTopicResponse {
                    name: t.name.clone(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| tfo::FetchOffsetPartitionResponse {
                            error_code: p.error_code.to_theirs(),
                            partition_index: p.partition_index,
                            start_offset: p.start_offset,
                            last_stable_offset: p.last_stable_offset,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl ToOurs for tfo::FetchOffsetsResponse {
    type Ours = FetchOffsetsResponse;
    fn to_ours(self) -> FetchOffsetsResponse {
        FetchOffsetsResponse {
            topics: self
                .topics
                .into_iter()
                .map(|t| FetchOffsetTopicResponse {
                    name: t.name,
                    partitions: t
                        .partitions
                        .into_iter()
                        .map(|p| FetchOffsetPartitionResponse {
                            error_code: p.error_code.to_ours(),
                            partition_index: p.partition_index,
                            start_offset: p.start_offset,
                            last_stable_offset: p.last_stable_offset,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// StreamFetch

/// The v11..=18 fields of the official StreamFetch request are private with no accessor. They
/// are carried here as official values and moved in and out of the request through the
/// official codec: the request is (de)coded at v18, where they sit between `isolation` and
/// `smartmodules` (after topic, partition, fetch_offset, max_bytes, isolation).
struct TheirLegacyFields {
    wasm_module: Vec<u8>,
    smartmodule: Option<TheirInvocation>,
    /// `DerivedStreamInvocation` is crate-private upstream: {stream String, params}.
    derivedstream: Option<(String, SmartModuleExtraParams)>,
}

const LEGACY_VERSION: Version = 18;

fn put<T: TheirEncoder>(value: &T, buf: &mut Vec<u8>) {
    value.encode(buf, LEGACY_VERSION).expect("official encode");
}

fn take<T: TheirDecoder>(src: &mut Cursor<&[u8]>) -> T {
    T::decode_from(src, LEGACY_VERSION).expect("official decode")
}

/// Returns `request` with its private legacy fields set to `legacy`.
fn with_legacy_fields(request: DefaultStreamFetchRequest, legacy: &TheirLegacyFields) -> DefaultStreamFetchRequest {
    let mut buf = Vec::new();
    put(&request.topic, &mut buf);
    put(&request.partition, &mut buf);
    put(&request.fetch_offset, &mut buf);
    put(&request.max_bytes, &mut buf);
    put(&request.isolation, &mut buf);
    put(&legacy.wasm_module, &mut buf);
    put(&legacy.smartmodule, &mut buf);
    match &legacy.derivedstream {
        None => put(&false, &mut buf),
        Some((stream, params)) => {
            put(&true, &mut buf);
            put(stream, &mut buf);
            put(params, &mut buf);
        }
    }
    put(&Vec::<TheirInvocation>::new(), &mut buf);
    let mut rebuilt: DefaultStreamFetchRequest = take(&mut Cursor::new(&buf[..]));
    // The fields present at v18 and later come from `request` itself.
    rebuilt.smartmodules = request.smartmodules;
    rebuilt.consumer_id = request.consumer_id;
    rebuilt
}

/// Reads the private legacy fields of `request`.
fn legacy_fields(request: &DefaultStreamFetchRequest) -> TheirLegacyFields {
    let bytes = request.as_bytes(LEGACY_VERSION).expect("official encode");
    let mut src = Cursor::new(&bytes[..]);
    let _topic: String = take(&mut src);
    let _partition: u32 = take(&mut src);
    let _fetch_offset: i64 = take(&mut src);
    let _max_bytes: i32 = take(&mut src);
    let _isolation: TheirIsolation = take(&mut src);
    let wasm_module = take(&mut src);
    let smartmodule = take(&mut src);
    let derivedstream = if take::<bool>(&mut src) { Some((take(&mut src), take(&mut src))) } else { None };
    TheirLegacyFields { wasm_module, smartmodule, derivedstream }
}

impl ToTheirs for StreamFetchRequest {
    type Theirs = DefaultStreamFetchRequest;
    fn to_theirs(&self) -> Self::Theirs {
        // Private fields upstream forbid a struct literal: start from the default.
        let mut request = DefaultStreamFetchRequest::default();
        request.topic = self.topic.clone();
        request.partition = self.partition;
        request.fetch_offset = self.fetch_offset;
        request.max_bytes = self.max_bytes;
        request.isolation = self.isolation.to_theirs();
        request.smartmodules = self.smartmodules.to_theirs();
        request.consumer_id = self.consumer_id.clone();
        let has_legacy = !self.wasm_module.0.is_empty() || self.smartmodule.is_some() || self.derivedstream.is_some();
        if has_legacy {
            let legacy = TheirLegacyFields {
                wasm_module: self.wasm_module.0.to_vec(),
                smartmodule: self.smartmodule.to_theirs(),
                derivedstream: self.derivedstream.as_ref().map(|d| (d.stream.clone(), d.params.to_theirs())),
            };
            request = with_legacy_fields(request, &legacy);
        }
        request
    }
}

impl ToOurs for DefaultStreamFetchRequest {
    type Ours = StreamFetchRequest;
    fn to_ours(self) -> StreamFetchRequest {
        let legacy = legacy_fields(&self);
        StreamFetchRequest {
            topic: self.topic,
            partition: self.partition,
            fetch_offset: self.fetch_offset,
            max_bytes: self.max_bytes,
            isolation: self.isolation.to_ours(),
            wasm_module: ByteVec(legacy.wasm_module.into()),
            smartmodule: legacy.smartmodule.to_ours(),
            derivedstream: legacy
                .derivedstream
                .map(|(stream, params)| DerivedStreamInvocation { stream, params: params.to_ours() }),
            smartmodules: self.smartmodules.to_ours(),
            consumer_id: self.consumer_id,
        }
    }
}

impl ToTheirs for AbortedTransaction {
    type Theirs = TheirAborted;
    fn to_theirs(&self) -> TheirAborted {
        TheirAborted { producer_id: self.producer_id, first_offset: self.first_offset }
    }
}

impl ToOurs for TheirAborted {
    type Ours = AbortedTransaction;
    fn to_ours(self) -> AbortedTransaction {
        AbortedTransaction { producer_id: self.producer_id, first_offset: self.first_offset }
    }
}

impl ToTheirs for FetchablePartitionResponse {
    type Theirs = TheirFetchable<TheirSet>;
    fn to_theirs(&self) -> Self::Theirs {
        TheirFetchable {
            partition_index: self.partition_index,
            error_code: self.error_code.to_theirs(),
            high_watermark: self.high_watermark,
            next_filter_offset: self.next_filter_offset,
            log_start_offset: self.log_start_offset,
            aborted: self.aborted.to_theirs(),
            records: self.records.to_theirs(),
        }
    }
}

impl ToOurs for TheirFetchable<TheirSet> {
    type Ours = FetchablePartitionResponse;
    fn to_ours(self) -> FetchablePartitionResponse {
        FetchablePartitionResponse {
            partition_index: self.partition_index,
            error_code: self.error_code.to_ours(),
            high_watermark: self.high_watermark,
            next_filter_offset: self.next_filter_offset,
            log_start_offset: self.log_start_offset,
            aborted: self.aborted.to_ours(),
            records: self.records.to_ours(),
        }
    }
}

impl ToTheirs for StreamFetchResponse {
    type Theirs = DefaultStreamFetchResponse;
    fn to_theirs(&self) -> Self::Theirs {
        DefaultStreamFetchResponse {
            topic: self.topic.clone(),
            stream_id: self.stream_id,
            partition: self.partition.to_theirs(),
        }
    }
}

impl ToOurs for DefaultStreamFetchResponse {
    type Ours = StreamFetchResponse;
    fn to_ours(self) -> StreamFetchResponse {
        StreamFetchResponse { topic: self.topic, stream_id: self.stream_id, partition: self.partition.to_ours() }
    }
}

// ---------------------------------------------------------------------------------------------
// UpdateOffsets

impl ToTheirs for UpdateOffsetsRequest {
    type Theirs = tuo::UpdateOffsetsRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tuo::UpdateOffsetsRequest {
            offsets: self
                .offsets
                .iter()
                .map(|o| tuo::OffsetUpdate { offset: o.offset, session_id: o.session_id })
                .collect(),
        }
    }
}

impl ToOurs for tuo::UpdateOffsetsRequest {
    type Ours = UpdateOffsetsRequest;
    fn to_ours(self) -> UpdateOffsetsRequest {
        UpdateOffsetsRequest {
            offsets: self
                .offsets
                .into_iter()
                .map(|o| OffsetUpdate { offset: o.offset, session_id: o.session_id })
                .collect(),
        }
    }
}

impl ToTheirs for UpdateOffsetsResponse {
    type Theirs = tuo::UpdateOffsetsResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tuo::UpdateOffsetsResponse {
            status: self
                .status
                .iter()
                .map(|s| tuo::OffsetUpdateStatus { session_id: s.session_id, error: s.error.to_theirs() })
                .collect(),
        }
    }
}

impl ToOurs for tuo::UpdateOffsetsResponse {
    type Ours = UpdateOffsetsResponse;
    fn to_ours(self) -> UpdateOffsetsResponse {
        UpdateOffsetsResponse {
            status: self
                .status
                .into_iter()
                .map(|s| OffsetUpdateStatus { session_id: s.session_id, error: s.error.to_ours() })
                .collect(),
        }
    }
}
