//! Names of the cluster's objects as clients see them, used by the SC (its SPU objects) and by
//! TLS (the names an SPU's certificate must carry): a room of its own so neither reaches into
//! the other.

/// The name of SPU `id`'s object: the official name of a custom SPU, which clients also use as
/// the TLS server name `<name>.<domain>`.
pub(crate) fn spu_name(id: i32) -> String {
    format!("custom-spu-{id}")
}
