//! Choosing a partition for each record.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a partitioner knows about the topic.
#[derive(Debug, Clone, Copy)]
pub struct PartitionerConfig<'a> {
    /// Number of partitions.
    pub partition_count: u32,
    /// Partitions currently online, ascending.
    pub available_partitions: &'a [u32],
}

/// Chooses the partition of a record. Must return a value below `partition_count`.
pub trait Partitioner: Send + Sync {
    /// The partition for a record with `key` and `value`.
    fn partition(&self, config: &PartitionerConfig<'_>, key: Option<&[u8]>, value: &[u8]) -> u32;
}

/// The official client's default: a keyed record goes to `siphash24(0, 0, key) % count` (the
/// same partition as the official client for the same key and count); a keyless record goes
/// round robin over the online partitions (over all of them when none is online).
#[derive(Debug, Default)]
pub struct SiphashRoundRobinPartitioner {
    counter: AtomicU64,
}

impl SiphashRoundRobinPartitioner {
    /// A new partitioner with its round-robin counter at 0.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The SipHash-2-4 (keys 0, 0) hash of a key, exactly as Rust's `Hash for [u8]` feeds it: the
/// length as a little-endian u64, then the bytes.
pub fn key_hash(key: &[u8]) -> u64 {
    let mut hasher = siphasher::sip::SipHasher24::new_with_keys(0, 0);
    key.hash(&mut hasher);
    hasher.finish()
}

impl Partitioner for SiphashRoundRobinPartitioner {
    fn partition(&self, config: &PartitionerConfig<'_>, key: Option<&[u8]>, _value: &[u8]) -> u32 {
        if config.partition_count == 0 {
            return 0;
        }
        match key {
            Some(key) => (key_hash(key) % u64::from(config.partition_count)) as u32,
            None => {
                let turn = self.counter.fetch_add(1, Ordering::Relaxed);
                if config.available_partitions.is_empty() {
                    (turn % u64::from(config.partition_count)) as u32
                } else {
                    config.available_partitions[(turn % config.available_partitions.len() as u64) as usize]
                }
            }
        }
    }
}

/// Sends every record to one partition.
#[derive(Debug, Clone, Copy)]
pub struct SpecificPartitioner(pub u32);

impl Partitioner for SpecificPartitioner {
    fn partition(&self, _config: &PartitionerConfig<'_>, _key: Option<&[u8]>, _value: &[u8]) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test vectors of the protocol notes (§8.2), taken from the official client.
    #[test]
    fn keys_go_where_the_official_client_sends_them() {
        let vectors: [(&[u8], u64, [u32; 4]); 5] = [
            (b"a", 18352538474555156587, [1, 1, 2, 2]),
            (b"key1", 2828383673794294405, [1, 1, 0, 6]),
            (b"hello", 15095950214601821714, [0, 2, 4, 2]),
            (b"", 16738165381834614119, [1, 2, 4, 3]),
            (b"user-42", 17790027765108192789, [1, 0, 4, 6]),
        ];
        let partitioner = SiphashRoundRobinPartitioner::new();
        for (key, hash, expected) in vectors {
            assert_eq!(key_hash(key), hash, "{key:?}");
            for (count, want) in [2u32, 3, 5, 7].into_iter().zip(expected) {
                let config = PartitionerConfig { partition_count: count, available_partitions: &[] };
                assert_eq!(partitioner.partition(&config, Some(key), b""), want, "{key:?} % {count}");
            }
        }
    }

    #[test]
    fn keyless_records_round_robin_over_online_partitions() {
        let partitioner = SiphashRoundRobinPartitioner::new();
        let online = [0, 2, 3];
        let config = PartitionerConfig { partition_count: 4, available_partitions: &online };
        let chosen: Vec<u32> = (0..6).map(|_| partitioner.partition(&config, None, b"v")).collect();
        assert_eq!(chosen, [0, 2, 3, 0, 2, 3]);
        let none_online = PartitionerConfig { partition_count: 3, available_partitions: &[] };
        let chosen: Vec<u32> = (0..3).map(|_| partitioner.partition(&none_online, None, b"v")).collect();
        assert_eq!(chosen.len(), 3);
        assert!(chosen.iter().all(|p| *p < 3));
    }
}
