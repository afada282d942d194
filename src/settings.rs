//! Natives of `com.infinyon.fluvio.Settings`: Java builders check each value as it is set with
//! the rule the engine or the embedded cluster applies when the value is used, so every
//! setting has one rule in one place (the check functions of `ClientConfig`, `ProducerConfig`,
//! `ConsumerConfig`, `TopicConfig` and `ClusterConfig`). A refused value is
//! `IllegalArgumentException` with the rule's message.

use std::time::Duration;

use fluvio_engine::producer::RetryPolicy;
use fluvio_engine::{ClientConfig, ConsumerConfig, ProducerConfig, TopicConfig};
use fluvio_local::ClusterConfig;
use jni::JNIEnv;
use jni::objects::JString;
use jni::sys::jlong;

use crate::contract::java::{self, SettingName};
use crate::contract::{Obj, natives};
use crate::convert::{duration, required_enum, string};
use crate::error::{JniError, Result};

/// A refused value.
fn refused(err: impl std::fmt::Display) -> JniError {
    JniError::IllegalArgument(err.to_string())
}

fn setting_name(env: &mut JNIEnv, setting: &Obj<java::Setting>) -> Result<SettingName> {
    required_enum::<java::Setting>(env, setting, "setting")
}

fn check_text(setting: SettingName, value: &str) -> Result<()> {
    match setting {
        SettingName::Endpoint => ClientConfig::check_endpoint(value).map_err(refused),
        SettingName::ClientId => ClientConfig::check_client_id(value).map_err(refused),
        // A typed failure (`FluvioException` with `INVALID_CONSUMER_NAME`), as the engine's.
        SettingName::ConsumerId => ConsumerConfig::check_consumer_id(value).map_err(JniError::Engine),
        other => Err(JniError::IllegalArgument(format!("{other:?} is not a text setting"))),
    }
}

fn check_number(setting: SettingName, value: jlong) -> Result<()> {
    let out_of_range = || JniError::IllegalArgument(format!("{setting:?} out of range: {value}"));
    let usize_value = || usize::try_from(value).map_err(|_| out_of_range());
    let u32_value = || u32::try_from(value).map_err(|_| out_of_range());
    let u16_value = || u16::try_from(value).map_err(|_| out_of_range());
    let u64_value = || u64::try_from(value).map_err(|_| out_of_range());
    match setting {
        SettingName::BatchSize => ProducerConfig::check_batch_size(usize_value()?).map_err(refused),
        SettingName::MaxRequestSize => ProducerConfig::check_max_request_size(usize_value()?).map_err(refused),
        SettingName::BatchQueueSize => ProducerConfig::check_batch_queue_size(usize_value()?).map_err(refused),
        SettingName::MaxBytes => {
            ConsumerConfig::check_max_bytes(i32::try_from(value).map_err(|_| out_of_range())?).map_err(refused)
        }
        SettingName::Partitions => TopicConfig::check_partitions(u32_value()?).map_err(refused),
        SettingName::ReplicationFactor => TopicConfig::check_replication_factor(u32_value()?).map_err(refused),
        SettingName::SegmentSize => TopicConfig::check_segment_size(u64_value()?).map_err(refused),
        SettingName::MaxPartitionSize => TopicConfig::check_max_partition_size(u64_value()?).map_err(refused),
        SettingName::Spus => ClusterConfig::check_spus(u16_value()?).map_err(refused),
        SettingName::MinLiveReplicas => ClusterConfig::check_min_live_replicas(u16_value()?).map_err(refused),
        SettingName::MaxBufferedBytes => {
            ClusterConfig::check_max_buffered_bytes(usize_value()?, fluvio_local::DEFAULT_MAX_FRAME_SIZE)
                .map_err(refused)
        }
        other => Err(JniError::IllegalArgument(format!("{other:?} is not a numeric setting"))),
    }
}

fn check_duration(setting: SettingName, value: Duration) -> Result<()> {
    match setting {
        SettingName::ConnectTimeout => ClientConfig::check_timeout("connectTimeout", value).map_err(refused),
        SettingName::RequestTimeout => ClientConfig::check_timeout("requestTimeout", value).map_err(refused),
        SettingName::TlsHandshakeTimeout => ClientConfig::check_timeout("tlsHandshakeTimeout", value).map_err(refused),
        SettingName::ProducerTimeout => ProducerConfig::check_timeout(value).map_err(refused),
        SettingName::RetryTimeout => RetryPolicy::check_timeout(value).map_err(refused),
        SettingName::ResumeTimeout => ConsumerConfig::check_resume_timeout(value).map_err(refused),
        SettingName::AutoCommitInterval => ConsumerConfig::check_auto_commit_interval(value).map_err(refused),
        SettingName::Retention => TopicConfig::check_retention(value).map_err(refused),
        SettingName::SpuTimeout => ClusterConfig::check_spu_timeout(value).map_err(refused),
        SettingName::ReplicaLagTime => ClusterConfig::check_replica_lag_time(value).map_err(refused),
        SettingName::IdleTimeout => ClusterConfig::check_connection_timeout("idleTimeout", value).map_err(refused),
        SettingName::ReadTimeout => ClusterConfig::check_connection_timeout("readTimeout", value).map_err(refused),
        other => Err(JniError::IllegalArgument(format!("{other:?} is not a duration setting"))),
    }
}

natives! {
    class = java::Settings;

    fn nativeCheckText(env, setting: Obj<'local, java::Setting>, value: JString<'local>) {
        let name = setting_name(env, &setting)?;
        let value = string(env, &value, "value")?;
        check_text(name, &value)
    }

    fn nativeCheckNumber(env, setting: Obj<'local, java::Setting>, value: jlong) {
        let name = setting_name(env, &setting)?;
        check_number(name, value)
    }

    fn nativeCheckDuration(env, setting: Obj<'local, java::Setting>, value: Obj<'local, java::Duration>) {
        let name = setting_name(env, &setting)?;
        let value = duration(env, &value, "value")?;
        check_duration(name, value)
    }
}
