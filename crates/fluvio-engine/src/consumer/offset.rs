//! Where a stream starts.

use crate::error::{Error, Result};

/// A starting position in a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offset {
    /// The first record still stored.
    Beginning,
    /// After the last committed record: only new records.
    End,
    /// This exact offset.
    Absolute(i64),
    /// `n` records after the beginning (at most the end).
    FromBeginning(u64),
    /// `n` records before the end (at least the beginning).
    FromEnd(u64),
}

impl Offset {
    /// The first stored record.
    pub fn beginning() -> Self {
        Offset::Beginning
    }

    /// The end: only records produced from now on.
    pub fn end() -> Self {
        Offset::End
    }

    /// An exact offset; negative offsets are refused.
    pub fn absolute(offset: i64) -> Result<Self> {
        if offset < 0 {
            return Err(Error::config(format!("offset {offset} is negative")));
        }
        Ok(Offset::Absolute(offset))
    }

    /// `n` records after the beginning.
    pub fn from_beginning(n: u64) -> Self {
        Offset::FromBeginning(n)
    }

    /// `n` records before the end.
    pub fn from_end(n: u64) -> Self {
        Offset::FromEnd(n)
    }

    /// The absolute offset this position names in a partition whose records span
    /// `[start, end)` (`end` being the high watermark). Relative positions are clamped to that
    /// range; an absolute one is taken as is.
    pub fn resolve(&self, start: i64, end: i64) -> i64 {
        let clamp = |offset: i64| offset.clamp(start, end.max(start));
        match *self {
            Offset::Beginning => start,
            Offset::End => end.max(start),
            Offset::Absolute(offset) => offset,
            Offset::FromBeginning(n) => clamp(start.saturating_add(i64::try_from(n).unwrap_or(i64::MAX))),
            Offset::FromEnd(n) => clamp(end.saturating_sub(i64::try_from(n).unwrap_or(i64::MAX))),
        }
    }

    /// Where a named consumer's stream starts when the cluster holds an offset for it, `next`
    /// being the stored offset + 1, as the official client resolves it: an absolute offset is
    /// taken as is; the other positions count from `next` instead of the partition's ends
    /// (`Beginning` and `End` both start at `next`, `FromBeginning(n)` `n` records after it,
    /// `FromEnd(n)` `n` records before it), clamped to the records stored `[start, end]`.
    pub fn resolve_after_stored(&self, start: i64, end: i64, next: i64) -> i64 {
        let clamp = |offset: i64| offset.clamp(start, end.max(start));
        match *self {
            Offset::Absolute(offset) => offset,
            Offset::Beginning | Offset::End => clamp(next),
            Offset::FromBeginning(n) => clamp(next.saturating_add(i64::try_from(n).unwrap_or(i64::MAX))),
            Offset::FromEnd(n) => clamp(next.saturating_sub(i64::try_from(n).unwrap_or(i64::MAX))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_clamps_relative_positions() {
        // Records 10..50 stored.
        assert_eq!(Offset::beginning().resolve(10, 50), 10);
        assert_eq!(Offset::end().resolve(10, 50), 50);
        assert_eq!(Offset::absolute(5).unwrap().resolve(10, 50), 5);
        assert_eq!(Offset::absolute(70).unwrap().resolve(10, 50), 70);
        assert_eq!(Offset::from_beginning(3).resolve(10, 50), 13);
        assert_eq!(Offset::from_beginning(100).resolve(10, 50), 50);
        assert_eq!(Offset::from_end(3).resolve(10, 50), 47);
        assert_eq!(Offset::from_end(100).resolve(10, 50), 10);
        assert_eq!(Offset::from_end(u64::MAX).resolve(0, 0), 0);
        assert_eq!(Offset::from_beginning(u64::MAX).resolve(0, 7), 7);
        assert!(Offset::absolute(-1).is_err());
    }

    #[test]
    fn a_stored_offset_moves_relative_positions() {
        // Records 10..50 stored; the consumer's last record was 19, so it resumes at 20.
        assert_eq!(Offset::beginning().resolve_after_stored(10, 50, 20), 20);
        assert_eq!(Offset::end().resolve_after_stored(10, 50, 20), 20);
        assert_eq!(Offset::from_beginning(5).resolve_after_stored(10, 50, 20), 25);
        assert_eq!(Offset::from_end(5).resolve_after_stored(10, 50, 20), 15);
        assert_eq!(Offset::from_end(50).resolve_after_stored(10, 50, 20), 10);
        assert_eq!(Offset::from_beginning(50).resolve_after_stored(10, 50, 20), 50);
        assert_eq!(Offset::absolute(3).unwrap().resolve_after_stored(10, 50, 20), 3);
        // Stored beyond what the partition holds now (a log lost in a crash): its end.
        assert_eq!(Offset::beginning().resolve_after_stored(10, 50, 70), 50);
    }
}
