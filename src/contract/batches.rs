//! How a `send` names the batch its record joined, as it crosses between Java and native code
//! (`TopicProducer.SAME_BATCH`, `BatchFuture.NO_TOKEN`): declared here, beside the contract
//! that pins them to the Java constants, for `topic_producer` to use.

use jni::sys::jlong;

/// The flag in `nativeSend`'s answer (above the record's index): the record joined the batch
/// whose token Java passed, so its output was not written.
pub(crate) const SAME_BATCH: jlong = 1 << 32;

/// A token no `BatchFuture` has: what Java passes before it has seen a batch.
pub(crate) const NO_TOKEN: jlong = 0;
