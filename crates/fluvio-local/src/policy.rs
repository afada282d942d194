//! The replication policy: when records are committed and which replica may be elected.

use std::fmt;
use std::str::FromStr;

/// When a partition's records are committed (its high watermark) and which replica the SC may
/// elect when a leader is lost ([`crate::ClusterConfig::replication_policy`]).
///
/// Both policies keep the guarantees election safety rests on: a replica whose log lost records
/// (damage found by recovery or by a read) is never elected while it lacks them, and after a
/// restart the SC waits for the replicas' reports before it elects. They differ in what
/// "committed" means and in who may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReplicationPolicy {
    /// Real Fluvio 0.18's rules, so that what a test sees here is what a real cluster does:
    ///
    /// * the high watermark is the smallest log end offset of **every** replica: while a
    ///   replica is down, or has not fetched since its leader took office, nothing new is
    ///   committed (`READ_COMMITTED` readers see nothing new, `READ_COMMITTED` produces time
    ///   out); followers never leave the in-sync set for lagging or being down (only a replica
    ///   whose copy is damaged or cannot be opened is left out, until it has copied the records
    ///   again: this cluster's own damage handling, which real Fluvio does not have);
    /// * when a leader's SPU goes offline, the SC elects only a follower whose log end, as the
    ///   leader last reported it (every 400 ms), is less than [`FLUVIO_MAX_LAG`] records behind
    ///   the leader's, the closest first; otherwise the partition is `LeaderOffline` until the
    ///   old leader returns, or a follower that qualifies by that same report comes back;
    /// * `lsr` in a partition's status counts the followers whose log end equals the leader's
    ///   in its last report, as the official SC counts it.
    ///
    /// A record acknowledged by the leader alone may be lost when a follower up to 3 records
    /// behind is elected (as on a real cluster); a committed record never is.
    #[default]
    Fluvio,
    /// Stronger guarantees (this cluster's behaviour before real Fluvio's rules were adopted):
    ///
    /// * the leader keeps an in-sync replica set: a follower leaves it when its connection drops
    ///   or it has not caught up for [`crate::ClusterConfig::replica_lag_time`], and joins again
    ///   once it holds everything committed; each change is accepted by the SC first;
    /// * the high watermark is the smallest log end offset of the in-sync replicas, and moves
    ///   only while there are at least [`crate::ClusterConfig::min_live_replicas`] of them;
    /// * the SC elects any online in-sync replica (the one whose log is furthest ahead), at
    ///   once; without one the partition is `LeaderOffline` until one returns;
    /// * `lsr` counts the in-sync followers.
    ///
    /// Under the faults the tests inject, an acknowledged-on-commit record is never lost and,
    /// with idempotent producers, never duplicated; the partition keeps serving as long as one
    /// in-sync replica is online.
    InSync,
}

/// Under [`ReplicationPolicy::Fluvio`], a follower may be elected only if its log end is less
/// than this many records behind the lost leader's (the official SC's `SimplePolicy`).
pub const FLUVIO_MAX_LAG: i64 = 4;

impl ReplicationPolicy {
    /// The name `fluvio-local --replication-policy` takes: `fluvio` or `in-sync`.
    pub fn name(self) -> &'static str {
        match self {
            ReplicationPolicy::Fluvio => "fluvio",
            ReplicationPolicy::InSync => "in-sync",
        }
    }
}

impl fmt::Display for ReplicationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a replication policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown replication policy '{0}' (expected fluvio or in-sync)")]
pub struct UnknownPolicy(pub String);

impl FromStr for ReplicationPolicy {
    type Err = UnknownPolicy;

    /// `fluvio` or `in-sync` (case-insensitive; `in_sync` and `insync` too).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "fluvio" => Ok(ReplicationPolicy::Fluvio),
            "in-sync" | "in_sync" | "insync" => Ok(ReplicationPolicy::InSync),
            _ => Err(UnknownPolicy(name.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for policy in [ReplicationPolicy::Fluvio, ReplicationPolicy::InSync] {
            assert_eq!(policy.name().parse::<ReplicationPolicy>(), Ok(policy));
        }
        assert_eq!("IN_SYNC".parse::<ReplicationPolicy>(), Ok(ReplicationPolicy::InSync));
        assert!("kafka".parse::<ReplicationPolicy>().is_err());
        assert_eq!(ReplicationPolicy::default(), ReplicationPolicy::Fluvio);
    }
}
