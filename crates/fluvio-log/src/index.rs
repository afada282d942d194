//! The sparse offset index of a segment.
//!
//! File format: a sequence of 8-byte entries, each a big-endian `u32` offset relative to the
//! segment's base offset followed by a big-endian `u32` byte position of a batch start in the
//! segment's log file. Entries are strictly increasing in both fields.
//!
//! The index is only a hint for finding a batch quickly: every lookup is verified against the
//! batch header it leads to, and the index can always be rebuilt from the log. Whether a batch
//! gets an entry depends only on its position and the previous entry's position, so a rebuild
//! produces exactly the index that appending produced (for the same interval).

/// Size of one index entry on disk.
pub(crate) const ENTRY_LEN: usize = 8;

/// One index entry: the batch with relative offset `relative_offset` starts at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// The in-memory copy of a segment's index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OffsetIndex {
    entries: Vec<IndexEntry>,
}

impl OffsetIndex {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The last entry.
    pub(crate) fn last(&self) -> Option<IndexEntry> {
        self.entries.last().copied()
    }

    /// The first entry.
    pub(crate) fn first(&self) -> Option<IndexEntry> {
        self.entries.first().copied()
    }

    /// The entry of the last indexed batch starting at or before `relative_offset`.
    pub(crate) fn lookup(&self, relative_offset: i64) -> Option<IndexEntry> {
        let n = self.entries.partition_point(|e| i64::from(e.relative_offset) <= relative_offset);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// The last entry whose batch starts at or before byte `position`.
    pub(crate) fn last_at_or_before_position(&self, position: u64) -> Option<IndexEntry> {
        let n = self.entries.partition_point(|e| u64::from(e.position) <= position);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// True if a batch starting at `position` gets an entry: at least `interval` bytes lie
    /// between it and the previous entry (or the start of the file).
    pub(crate) fn wants_entry(&self, position: u64, interval: u32) -> bool {
        let last = self.entries.last().map_or(0, |e| u64::from(e.position));
        position.saturating_sub(last) >= u64::from(interval)
            && self.entries.last().is_none_or(|e| u64::from(e.position) < position)
    }

    /// Appends an entry (callers keep both fields increasing).
    pub(crate) fn push(&mut self, entry: IndexEntry) {
        debug_assert!(
            self.entries
                .last()
                .is_none_or(|e| e.position < entry.position && e.relative_offset < entry.relative_offset)
        );
        self.entries.push(entry);
    }

    /// Drops the entries of batches starting at or after `position`.
    pub(crate) fn truncate_at_position(&mut self, position: u64) {
        let keep = self.entries.partition_point(|e| u64::from(e.position) < position);
        self.entries.truncate(keep);
    }

    /// The file image of the entries from `from` on.
    pub(crate) fn encode_from(&self, from: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len().saturating_sub(from) * ENTRY_LEN);
        for e in &self.entries[from.min(self.entries.len())..] {
            out.extend_from_slice(&e.relative_offset.to_be_bytes());
            out.extend_from_slice(&e.position.to_be_bytes());
        }
        out
    }

    /// Parses an index file image, or `None` if it cannot belong to a log of `log_len` bytes:
    /// a length that is not a multiple of 8, entries not strictly increasing, or positions
    /// outside the log. (Entries that are in range but point at the wrong place are caught
    /// when they are used, because every lookup checks the header it lands on.)
    pub(crate) fn decode(bytes: &[u8], log_len: u64) -> Option<Self> {
        if !bytes.len().is_multiple_of(ENTRY_LEN) {
            return None;
        }
        let mut entries = Vec::with_capacity(bytes.len() / ENTRY_LEN);
        for chunk in bytes.chunks_exact(ENTRY_LEN) {
            let relative_offset = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let position = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            if u64::from(position) >= log_len {
                return None;
            }
            if let Some(prev) = entries.last().copied() {
                let IndexEntry { relative_offset: prev_rel, position: prev_pos } = prev;
                if relative_offset <= prev_rel || position <= prev_pos {
                    return None;
                }
            }
            entries.push(IndexEntry { relative_offset, position });
        }
        Some(Self { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(relative_offset: u32, position: u32) -> IndexEntry {
        IndexEntry { relative_offset, position }
    }

    #[test]
    fn lookup_finds_the_last_entry_at_or_before() {
        let mut index = OffsetIndex::default();
        index.push(entry(5, 100));
        index.push(entry(9, 300));
        assert_eq!(index.lookup(4), None);
        assert_eq!(index.lookup(5), Some(entry(5, 100)));
        assert_eq!(index.lookup(8), Some(entry(5, 100)));
        assert_eq!(index.lookup(1000), Some(entry(9, 300)));
    }

    #[test]
    fn encode_decode_round_trip_and_validation() {
        let mut index = OffsetIndex::default();
        index.push(entry(5, 100));
        index.push(entry(9, 300));
        let bytes = index.encode_from(0);
        assert_eq!(bytes, [0, 0, 0, 5, 0, 0, 0, 100, 0, 0, 0, 9, 0, 0, 1, 44]);
        assert_eq!(OffsetIndex::decode(&bytes, 301), Some(index.clone()));
        assert_eq!(OffsetIndex::decode(&bytes, 300), None, "position beyond the log");
        assert_eq!(OffsetIndex::decode(&bytes[..7], 1000), None, "partial entry");
        let mut swapped = index.encode_from(1);
        swapped.extend_from_slice(&index.encode_from(0)[..8]);
        assert_eq!(OffsetIndex::decode(&swapped, 1000), None, "not increasing");
        assert_eq!(index.encode_from(1), bytes[8..]);
    }

    #[test]
    fn entries_follow_the_interval_and_truncate_by_position() {
        let mut index = OffsetIndex::default();
        assert!(!index.wants_entry(0, 100));
        assert!(!index.wants_entry(99, 100));
        assert!(index.wants_entry(100, 100));
        index.push(entry(3, 120));
        assert!(!index.wants_entry(219, 100));
        assert!(index.wants_entry(220, 100));
        index.push(entry(7, 250));
        index.truncate_at_position(250);
        assert_eq!(index.last(), Some(entry(3, 120)));
        index.truncate_at_position(0);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn interval_zero_indexes_every_batch_once() {
        let mut index = OffsetIndex::default();
        assert!(index.wants_entry(0, 0));
        index.push(entry(0, 0));
        assert!(!index.wants_entry(0, 0));
        assert!(index.wants_entry(1, 0));
    }
}
