//! What the recovery of a replica's log did when the SPU opened it: every action is logged at
//! WARN with what it removed (file, offsets, records), and records it removed are reported to
//! the SC ([`RecoveryLoss`]), which stops counting the replica as holding every committed
//! record until it has copied them again from the leader.

use std::path::Path;

use fluvio_log::{DropReason, RecoveryReport, segment_file_name};
use fluvio_wire::error_code::ReplicaKey;
use tracing::{error, warn};

use crate::control::RecoveryLoss;

/// Logs each action of `report` (the recovery of `key`'s log in `dir`) and returns the records
/// it removed, if any. `committed_end` is the high watermark the replica had checkpointed
/// before: removed records below it had been committed.
pub(crate) fn log_recovery(
    key: &ReplicaKey,
    dir: &Path,
    report: &RecoveryReport,
    committed_end: Option<i64>,
) -> Option<RecoveryLoss> {
    for cut in &report.truncations {
        warn!(
            replica = %key,
            file = %dir.join(segment_file_name(cut.segment_base_offset)).display(),
            position = cut.position,
            bytes = cut.bytes_removed,
            sealed = cut.sealed,
            from_offset = cut.offset,
            to_offset = ?cut.end_offset,
            records = ?cut.end_offset.map(|end| end - cut.offset),
            defect = %cut.defect,
            "log recovery cut a segment at a damaged batch"
        );
    }
    for dropped in &report.dropped_segments {
        let reason = match &dropped.reason {
            DropReason::OffsetGap { expected, found } => {
                format!("it starts at {found}, the log before ends at {expected}")
            }
            DropReason::AfterTruncatedSegment { segment_base_offset } => {
                format!("it follows the cut segment {}", segment_file_name(*segment_base_offset))
            }
        };
        warn!(
            replica = %key,
            file = %dir.join(segment_file_name(dropped.base_offset)).display(),
            bytes = dropped.bytes,
            from_offset = dropped.base_offset,
            to_offset = ?dropped.next_offset,
            records = ?dropped.next_offset.map(|end| end - dropped.base_offset),
            %reason,
            "log recovery deleted a segment"
        );
    }
    if !report.indexes_rebuilt.is_empty() {
        let files: Vec<String> = report.indexes_rebuilt.iter().map(|base| segment_file_name(*base)).collect();
        warn!(replica = %key, segments = ?files, "log recovery rebuilt segment indexes (no record lost)");
    }
    if !report.removed_files.is_empty() {
        warn!(replica = %key, files = ?report.removed_files, "log recovery deleted leftover files (no record lost)");
    }
    if let Some(offset) = report.completed_reset {
        warn!(replica = %key, offset, "log recovery completed an interrupted restart of the log at this offset");
    }
    let removed = report.removed_offsets()?;
    let cause = describe(report);
    let committed = committed_end.filter(|end| *end > removed.from);
    match committed {
        Some(end) => error!(
            replica = %key,
            from_offset = removed.from,
            to_offset = ?removed.to,
            records = ?removed.records(),
            committed_records = end - removed.from,
            %cause,
            "log recovery removed committed records from this replica; it is no longer in sync and copies \
             them again from the leader (a partition without another replica has lost them)"
        ),
        None => warn!(
            replica = %key,
            from_offset = removed.from,
            to_offset = ?removed.to,
            records = ?removed.records(),
            %cause,
            "log recovery removed records from this replica; it is no longer in sync and copies them again \
             from the leader"
        ),
    }
    Some(RecoveryLoss { from: removed.from, to: removed.to, committed_end, cause })
}

/// One line on what recovery found, for the SC's reports.
fn describe(report: &RecoveryReport) -> String {
    let mut parts: Vec<String> = report
        .truncations
        .iter()
        .map(|cut| {
            format!("{} cut at byte {} ({})", segment_file_name(cut.segment_base_offset), cut.position, cut.defect)
        })
        .collect();
    if !report.dropped_segments.is_empty() {
        parts.push(format!("{} later segment(s) deleted", report.dropped_segments.len()));
    }
    if let Some(gap) = report.dropped_segments.iter().find_map(|d| match d.reason {
        DropReason::OffsetGap { expected, found } => Some((expected, found)),
        DropReason::AfterTruncatedSegment { .. } => None,
    }) {
        parts.push(format!("offsets {}..{} missing", gap.0, gap.1));
    }
    parts.join("; ")
}
