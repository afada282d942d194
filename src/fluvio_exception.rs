//! Natives of `com.infinyon.fluvio.FluvioException`: the error codes, TLS failures and cluster
//! failures native code can report, so a test can check that Java's `Code`, `TlsFailure` and
//! `ClusterFailure` enums know every one of them (the library checks the same when it
//! initializes).

use jni::objects::JString;

use crate::contract::{java, natives};
use crate::error::{all_cluster_failure_names, all_code_names, all_tls_failure_names};

natives! {
    class = java::FluvioException;

    /// Every code, one per line.
    fn nativeCodeNames(env) -> JString<'local> {
        Ok(env.new_string(all_code_names().join("\n"))?)
    }

    /// Every TLS failure, one per line.
    fn nativeTlsFailureNames(env) -> JString<'local> {
        Ok(env.new_string(all_tls_failure_names().join("\n"))?)
    }

    /// Every failure of the embedded cluster, one per line.
    fn nativeClusterFailureNames(env) -> JString<'local> {
        Ok(env.new_string(all_cluster_failure_names().join("\n"))?)
    }

    /// Panics inside native code, for the test that proves a panic reaches Java as
    /// `FluvioException(INTERNAL)` and leaves the library usable. Package-private in Java.
    fn nativeTestPanic(_) {
        panic!("deliberate panic (test hook)")
    }
}
