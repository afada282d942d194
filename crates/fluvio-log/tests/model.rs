//! Property test: random appends, reads, truncations, retention, reopens and torn tails
//! against a simple in-memory model of the log.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use common::*;
use fluvio_log::{FilePool, LogConfig, LogError, PartitionLog};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append { records: usize, pad: usize },
    AppendMany(Vec<(usize, usize)>),
    Read { offset: u16, max_bytes: u16, end: u16 },
    TruncateToBoundary(u16),
    TruncateInside(u16),
    Reopen,
    TornTail { garbage: Vec<u8>, partial_batch: bool },
    RetainBytes(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..5, 0usize..120).prop_map(|(records, pad)| Op::Append { records, pad }),
        2 => prop::collection::vec((1usize..4, 0usize..60), 1..4).prop_map(Op::AppendMany),
        4 => (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(offset, max_bytes, end)| Op::Read { offset, max_bytes: max_bytes % 1500, end }),
        1 => any::<u16>().prop_map(Op::TruncateToBoundary),
        1 => any::<u16>().prop_map(Op::TruncateInside),
        1 => Just(Op::Reopen),
        1 => (prop::collection::vec(any::<u8>(), 0..100), any::<bool>()).prop_map(|(garbage, partial_batch)| Op::TornTail { garbage, partial_batch }),
        1 => any::<u16>().prop_map(|b| Op::RetainBytes(b % 4000)),
    ]
}

/// One stored batch of the model.
#[derive(Debug, Clone)]
struct Stored {
    base: i64,
    next: i64,
    bytes: Vec<u8>,
}

struct Model {
    start: i64,
    leo: i64,
    batches: Vec<Stored>,
}

impl Model {
    /// The read the log must answer: Kafka-style greedy whole batches.
    fn read(&self, offset: i64, max_bytes: usize, end: i64) -> (Vec<u8>, i64, i64) {
        let end = end.min(self.leo);
        if offset >= end {
            return (Vec::new(), offset, offset);
        }
        let first = self.batches.iter().position(|b| b.next > offset).unwrap();
        let mut out = Vec::new();
        let mut next = offset;
        for b in &self.batches[first..] {
            if b.next > end || (!out.is_empty() && out.len() + b.bytes.len() > max_bytes) {
                break;
            }
            out.extend_from_slice(&b.bytes);
            next = b.next;
        }
        if out.is_empty() { (out, offset, offset) } else { (out, self.batches[first].base, next) }
    }
}

fn run(ops: Vec<Op>, segment_max_bytes: u64, index_interval_bytes: u32) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig { segment_max_bytes, index_interval_bytes, retention: None, max_partition_bytes: None };
    // A pool smaller than the log's segments: reads across segments close and reopen files.
    let pool = FilePool::new(4);
    let open = |cfg: &LogConfig| PartitionLog::open_in_pool(dir.path(), cfg.clone(), pool.clone()).unwrap();
    let mut log = open(&cfg);
    let mut model = Model { start: 0, leo: 0, batches: Vec::new() };
    let mut tag = 0usize;
    let mut append = |log: &mut PartitionLog, model: &mut Model, specs: &[(usize, usize)]| {
        let mut buf = Vec::new();
        let mut parts = Vec::new();
        for &(records, pad) in specs {
            tag += 1;
            let b = batch(&format!("t{tag}"), records, pad);
            parts.push((buf.len(), b.len(), records as i64));
            buf.extend(b);
        }
        let info = if specs.len() == 1 { log.append(&mut buf) } else { log.append_many(&mut buf) }.unwrap();
        prop_assert_eq!(info.base_offset, model.leo);
        for (at, len, n) in parts {
            let base = model.leo;
            model.leo += n;
            let bytes = buf[at..at + len].to_vec();
            prop_assert_eq!(i64::from_be_bytes(bytes[..8].try_into().unwrap()), base);
            model.batches.push(Stored { base, next: model.leo, bytes });
        }
        prop_assert_eq!(info.next_offset, model.leo);
        Ok(())
    };

    for op in ops {
        match op {
            Op::Append { records, pad } => append(&mut log, &mut model, &[(records, pad)])?,
            Op::AppendMany(specs) => append(&mut log, &mut model, &specs)?,
            Op::Read { offset, max_bytes, end } => {
                let span = (model.leo - model.start + 2) as u64;
                let offset = model.start + (u64::from(offset) % span) as i64 - 1;
                let end = model.start + (u64::from(end) % span) as i64;
                match log.read(offset, max_bytes as usize, end) {
                    Ok(slice) => {
                        prop_assert!(offset >= model.start && offset <= model.leo);
                        let (bytes, first, next) = model.read(offset, max_bytes as usize, end);
                        prop_assert_eq!(&slice.bytes[..], &bytes[..]);
                        prop_assert_eq!((slice.first_offset, slice.next_offset), (first, next));
                    }
                    Err(LogError::OffsetEvicted { next_available, .. }) => {
                        prop_assert!(offset < model.start);
                        prop_assert_eq!(next_available, model.start);
                    }
                    Err(LogError::OffsetOutOfRange { log_end, .. }) => {
                        prop_assert!(offset > model.leo);
                        prop_assert_eq!(log_end, model.leo);
                    }
                    Err(err) => return Err(TestCaseError::fail(format!("read: {err}"))),
                }
            }
            Op::TruncateToBoundary(pick) => {
                let boundaries: Vec<i64> = model.batches.iter().map(|b| b.base).chain([model.leo]).collect();
                let target = boundaries[pick as usize % boundaries.len()];
                log.truncate_to(target).unwrap();
                model.batches.retain(|b| b.base < target);
                model.leo = target;
            }
            Op::TruncateInside(pick) => {
                let multi: Vec<&Stored> = model.batches.iter().filter(|b| b.next - b.base > 1).collect();
                if let Some(b) = multi.get(pick as usize % multi.len().max(1)) {
                    let inside = b.base + 1;
                    let is_boundary_err = matches!(log.truncate_to(inside), Err(LogError::NotABatchBoundary { batch_base_offset, batch_next_offset, .. }) if batch_base_offset == b.base && batch_next_offset == b.next);
                    prop_assert!(is_boundary_err);
                }
            }
            Op::Reopen => {
                drop(log);
                log = open(&cfg);
                prop_assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
            }
            Op::TornTail { garbage, partial_batch } => {
                let active = *log.segment_base_offsets().last().unwrap();
                drop(log);
                let mut tail = garbage;
                if partial_batch {
                    let mut next = batch("torn", 3, 50);
                    next[..8].copy_from_slice(&model.leo.to_be_bytes());
                    next.truncate(next.len() - 1 - tail.len().min(next.len() - 1));
                    tail = next;
                }
                append_raw(&log_path(dir.path(), active), &tail);
                log = open(&cfg);
                prop_assert_eq!(log.recovery_report().truncated_bytes(), tail.len() as u64);
            }
            Op::RetainBytes(limit) => {
                log.set_config(LogConfig { max_partition_bytes: Some(u64::from(limit)), ..cfg.clone() });
                let outcome = log.enforce_retention(SystemTime::now()).unwrap();
                log.set_config(cfg.clone());
                let start = outcome.log_start_offset;
                prop_assert!(start == model.leo || model.batches.iter().any(|b| b.base == start));
                prop_assert!(log.size_bytes() <= u64::from(limit) || log.segment_base_offsets().len() == 1);
                model.batches.retain(|b| b.base >= start);
                model.start = start;
            }
        }
        prop_assert_eq!(log.log_start_offset(), model.start);
        prop_assert_eq!(log.log_end_offset(), model.leo);
        prop_assert_eq!(log.size_bytes(), model.batches.iter().map(|b| b.bytes.len() as u64).sum::<u64>());
    }
    // Final full comparison, also after a reopen.
    drop(log);
    let log = open(&cfg);
    prop_assert!(log.recovery_report().is_clean());
    let slice = log.read(model.start, usize::MAX, model.leo).unwrap();
    let all: Vec<u8> = model.batches.iter().flat_map(|b| b.bytes.iter().copied()).collect();
    prop_assert_eq!(&slice.bytes[..], &all[..]);
    Ok(())
}

fn append_raw(path: &Path, bytes: &[u8]) {
    OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn log_matches_model(
        ops in prop::collection::vec(op(), 1..80),
        segment_max_bytes in 150u64..2500,
        index_interval_bytes in 0u32..400,
    ) {
        run(ops, segment_max_bytes, index_interval_bytes)?;
    }
}
