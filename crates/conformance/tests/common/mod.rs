//! What the official consumer reads from a partition a Fluvio SPU serves, and the stored
//! batches that decide it. Shared by the tests that drive the official client.
//!
//! A Fluvio SPU (and `fluvio-local`, as it does) cuts each push at the fetch's `max_bytes`,
//! inside a batch if that is where it falls. The official 0.50 consumer takes the declared end
//! of a push's last batch as its next offset, so it **skips the records of a cut batch that did
//! not arrive** (all of them when the batch is compressed: a cut compressed batch decodes to
//! nothing). Against a real cluster it skipped records this way (19 gaps of 83 offsets in
//! 190,000 records); the tests check it does exactly that here, no more. With
//! `disable_continuous` it also counts each pushed batch's declared records, including those
//! before its start offset and those it skipped, so it **stops early** by up to the records of
//! the first batch before the start offset.

#![allow(dead_code)]

pub mod official_offsets;

use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use fluvio_wire::record::{RawBatch, RecordSet};

/// The batches stored for one partition (on whichever SPU holds it), in offset order.
pub fn stored_batches(base: &Path, topic: &str, partition: u32) -> Vec<RawBatch> {
    let mut batches = Vec::new();
    for entry in std::fs::read_dir(base).unwrap() {
        let spu_dir = entry.unwrap().path();
        if !spu_dir.file_name().unwrap().to_string_lossy().starts_with("spu-") {
            continue;
        }
        let Ok(files) = std::fs::read_dir(spu_dir.join(format!("{topic}-{partition}"))) else { continue };
        for file in files {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                let set = RecordSet::from_encoded(Bytes::from(std::fs::read(&path).unwrap()));
                batches.extend(set.batches().expect("stored batches decode"));
            }
        }
    }
    batches.sort_by_key(|b| b.header.base_offset);
    batches
}

/// The official consumer's default `max_bytes` (protocol notes §8.3).
pub const OFFICIAL_MAX_BYTES: usize = 1_048_890;

/// Where a stored batch lies, its size, and whether it is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its base offset.
    pub base: i64,
    /// The offset after its last record.
    pub next: i64,
    /// Its size in bytes.
    pub len: usize,
    /// Whether its records are compressed.
    pub compressed: bool,
}

/// The stored batches of a partition, in order.
pub fn batch_spans(base: &Path, topic: &str, partition: u32) -> Vec<Span> {
    stored_batches(base, topic, partition)
        .iter()
        .map(|b| Span {
            base: b.header.base_offset,
            next: b.header.next_offset(),
            len: b.encoded_len(),
            compressed: b.header.attributes & 7 != 0,
        })
        .collect()
}

/// How an official read fell short of the records it was asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// Records skipped before the last record delivered.
    pub skipped: usize,
    /// Records missing after the last record delivered.
    pub at_end: usize,
}

/// Whether the official consumer can skip the offsets `from..to` in one go: the rest of the
/// uncompressed batch holding `from`, cut at the end of a push (its declared end is where the
/// consumer resumes), then whole uncompressed batches larger than `max_bytes`, each cut as
/// the first batch of its push and skipped alike. (A cut compressed batch does not decompress:
/// it ends the read instead.)
fn skippable(spans: &[Span], from: i64, to: i64, max_bytes: usize) -> bool {
    let Some(first) = spans.iter().position(|s| (s.base..s.next).contains(&from)) else { return false };
    let mut at = first;
    loop {
        let span = spans[at];
        if span.compressed || (at > first && span.len <= max_bytes) {
            return false;
        }
        if span.next == to {
            return true;
        }
        if span.next > to || at + 1 == spans.len() {
            return false;
        }
        at += 1;
    }
}

/// Checks the offsets the official consumer delivered, with `disable_continuous` and
/// `max_bytes`, when asked for `wanted` (from the start offset to the end known when it
/// started), against the stored batches (`spans`, from [`batch_spans`]), as the module notes
/// describe:
///
/// * offsets strictly increasing within `wanted`;
/// * every run of offsets missing before the last one delivered is one it skips (see
///   [`skippable`]);
/// * what is missing after the last one delivered is such a run, then either an early stop
///   (at most the records of the first batch before the start offset) or the end of the read
///   at a cut compressed batch: it does not decompress, the consumer's stream yields an error,
///   and with `disable_continuous` its retry wrapper ends the stream.
///
/// Returns how much is missing, or what breaks the rules.
pub fn check_official_read(
    delivered: &[i64],
    wanted: Range<i64>,
    spans: &[Span],
    max_bytes: usize,
) -> Result<Shortfall, String> {
    let mut shortfall = Shortfall::default();
    let mut expected = wanted.start;
    for &offset in delivered {
        if !(expected..wanted.end).contains(&offset) {
            return Err(format!("offset {offset} delivered where {expected}..{} was due", wanted.end));
        }
        if offset > expected && !skippable(spans, expected, offset, max_bytes) {
            return Err(format!("offsets {expected}..{offset} missing, not skipped by the official consumer"));
        }
        shortfall.skipped += (offset - expected) as usize;
        expected = offset + 1;
    }
    if expected < wanted.end {
        let first_base =
            spans.iter().find(|s| (s.base..s.next).contains(&wanted.start)).map_or(wanted.start, |s| s.base);
        let early_stop = wanted.start - first_base;
        // Where the skipped run (if any) ends and the rest begins.
        let ends = std::iter::once(expected).chain(
            spans.iter().map(|s| s.next).filter(|&end| end > expected && skippable(spans, expected, end, max_bytes)),
        );
        let explained = ends
            .into_iter()
            .any(|rest| wanted.end - rest <= early_stop || spans.iter().any(|s| s.base == rest && s.compressed));
        if !explained {
            return Err(format!(
                "offsets {expected}..{} missing at the end: neither skipped nor an early stop",
                wanted.end
            ));
        }
        shortfall.at_end = (wanted.end - expected) as usize;
    }
    Ok(shortfall)
}
