//! Topic validation, in the official SC's order and with its error codes.

use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::sc::topic::{ReplicaSpec, TopicSpec};

/// Longest object name.
pub(crate) const MAX_NAME_LEN: usize = 63;
/// Default retention: 7 days.
pub(crate) const DEFAULT_RETENTION_SECS: u32 = 7 * 24 * 3600;
/// Shortest retention allowed.
pub(crate) const MIN_RETENTION_SECS: u32 = 10;
/// Default segment size: 1 GiB.
pub(crate) const DEFAULT_SEGMENT_SIZE: u32 = 1024 * 1024 * 1024;
/// Smallest segment size allowed.
pub(crate) const MIN_SEGMENT_SIZE: u32 = 1024;
/// Default maximum partition size: 100 GiB.
pub(crate) const DEFAULT_MAX_PARTITION_SIZE: u64 = 100 * 1024 * 1024 * 1024;
/// Smallest maximum partition size allowed.
pub(crate) const MIN_MAX_PARTITION_SIZE: u64 = 2048;

/// Most partitions a topic may have. The official SC has no limit, but every partition here
/// is a directory with open files inside the test's own process: a typo such as
/// `Integer.MAX_VALUE` must be refused, not exhaust memory and take the host process down.
pub(crate) const MAX_PARTITIONS: u32 = 1024;

/// A refusal: the code and a message for humans.
pub(crate) type Refusal = (ErrorCode, String);

/// Checks a topic name: at most 63 characters of `[a-z0-9-]`, not starting or ending with '-'.
pub(crate) fn validate_name(name: &str) -> Result<(), Refusal> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err((
            ErrorCode::TopicInvalidName,
            format!(
                "invalid topic name '{name}': use 1 to {MAX_NAME_LEN} characters of lowercase letters, digits and \
                 '-', not starting or ending with '-'"
            ),
        ))
    }
}

/// Checks retention and storage settings.
pub(crate) fn validate_config(spec: &TopicSpec) -> Result<(), Refusal> {
    let invalid = |message: String| Err((ErrorCode::TopicInvalidConfiguration, message));
    if let Some(policy) = spec.cleanup_policy.filter(|p| p.retention_secs() < MIN_RETENTION_SECS) {
        return invalid(format!(
            "retention of {} s is below the minimum of {MIN_RETENTION_SECS} s",
            policy.retention_secs()
        ));
    }
    if let Some(storage) = &spec.storage {
        let segment = storage.segment_size.unwrap_or(DEFAULT_SEGMENT_SIZE);
        if segment < MIN_SEGMENT_SIZE {
            return invalid(format!("segment size of {segment} bytes is below the minimum of {MIN_SEGMENT_SIZE}"));
        }
        if let Some(max) = storage.max_partition_size {
            if max < MIN_MAX_PARTITION_SIZE {
                return invalid(format!(
                    "maximum partition size of {max} bytes is below the minimum of {MIN_MAX_PARTITION_SIZE}"
                ));
            }
            if max < u64::from(segment) {
                return invalid(format!(
                    "maximum partition size of {max} bytes is smaller than the segment size of {segment} bytes"
                ));
            }
        }
    }
    Ok(())
}

/// Checks the replica part: counts above zero, consistent assigned maps, no mirroring.
pub(crate) fn validate_replicas(spec: &TopicSpec, known_spus: &[i32]) -> Result<(), Refusal> {
    match &spec.replicas {
        ReplicaSpec::Computed(param) => {
            if param.partitions == 0 {
                return Err((ErrorCode::TopicError, "partitions must be greater than 0".into()));
            }
            check_partition_count(param.partitions)?;
            if param.replication_factor == 0 {
                return Err((ErrorCode::TopicError, "replication factor must be greater than 0".into()));
            }
        }
        ReplicaSpec::Assigned(maps) => {
            if maps.is_empty() {
                return Err((ErrorCode::TopicError, "an assigned topic needs at least one partition".into()));
            }
            check_partition_count(u32::try_from(maps.len()).unwrap_or(u32::MAX))?;
            let mut ids: Vec<u32> = maps.iter().map(|m| m.id).collect();
            ids.sort_unstable();
            if ids.iter().enumerate().any(|(i, id)| *id != i as u32) {
                return Err((ErrorCode::TopicError, "assigned partition ids must be 0, 1, 2, ... without gaps".into()));
            }
            for map in maps {
                if map.replicas.is_empty() {
                    return Err((ErrorCode::TopicError, format!("partition {} has no replica", map.id)));
                }
                let mut unique = map.replicas.clone();
                unique.sort_unstable();
                unique.dedup();
                if unique.len() != map.replicas.len() {
                    return Err((ErrorCode::TopicError, format!("partition {} lists an SPU twice", map.id)));
                }
                if let Some(unknown) = map.replicas.iter().find(|id| !known_spus.contains(id)) {
                    return Err((
                        ErrorCode::TopicError,
                        format!("partition {} refers to unknown SPU {unknown}", map.id),
                    ));
                }
            }
        }
        ReplicaSpec::Mirror(_) => {
            return Err((ErrorCode::TopicInvalidReplicaType, "mirror topics are not supported by fluvio-local".into()));
        }
    }
    Ok(())
}

/// Refuses a topic that would have more than [`MAX_PARTITIONS`] partitions.
pub(crate) fn check_partition_count(total: u32) -> Result<(), Refusal> {
    if total > MAX_PARTITIONS {
        return Err((
            ErrorCode::TopicInvalidConfiguration,
            format!("{total} partitions requested; fluvio-local allows at most {MAX_PARTITIONS} per topic"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluvio_wire::sc::topic::{CleanupPolicy, SegmentBasedPolicy, TopicStorageConfig};

    #[test]
    fn names() {
        for good in ["a", "topic-1", "0abc", &"x".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Upper", "under_score", "dot.ted", "sp ace", &"x".repeat(64)] {
            assert_eq!(validate_name(bad).unwrap_err().0, ErrorCode::TopicInvalidName, "{bad}");
        }
    }

    #[test]
    fn configs() {
        let mut spec = TopicSpec::computed(1, 1);
        assert!(validate_config(&spec).is_ok());
        spec.cleanup_policy = Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 9 }));
        assert_eq!(validate_config(&spec).unwrap_err().0, ErrorCode::TopicInvalidConfiguration);
        spec.cleanup_policy = None;
        spec.storage = Some(TopicStorageConfig { segment_size: Some(1023), max_partition_size: None });
        assert_eq!(validate_config(&spec).unwrap_err().0, ErrorCode::TopicInvalidConfiguration);
        spec.storage = Some(TopicStorageConfig { segment_size: Some(4096), max_partition_size: Some(2048) });
        assert_eq!(validate_config(&spec).unwrap_err().0, ErrorCode::TopicInvalidConfiguration);
        spec.storage = Some(TopicStorageConfig { segment_size: Some(4096), max_partition_size: Some(8192) });
        assert!(validate_config(&spec).is_ok());
    }

    #[test]
    fn replica_counts() {
        assert_eq!(validate_replicas(&TopicSpec::computed(0, 1), &[5001]).unwrap_err().0, ErrorCode::TopicError);
        assert_eq!(validate_replicas(&TopicSpec::computed(1, 0), &[5001]).unwrap_err().0, ErrorCode::TopicError);
        assert!(validate_replicas(&TopicSpec::computed(3, 1), &[5001]).is_ok());
    }
}
