//! The SC objects as the official CLI prints them (`fluvio ... -O json` and `-O yaml`, which
//! render `fluvio-sc-schema`'s `Metadata` with `fluvio-controlplane-metadata`'s serde
//! attributes through `serde_json::to_string_pretty` and `serde_yaml::to_string`): ours print
//! the same text in both formats, field for field and in the same order, for every fixture and
//! for random objects; and we read the official JSON and YAML back into the same objects.

use fluvio_sc_schema::objects as to;
use fluvio_wire::sc::partition::PartitionSpec;
use fluvio_wire::sc::spu::SpuSpec;
use fluvio_wire::sc::topic::{ReplicaSpec, TopicSpec};
use fluvio_wire::sc::{Metadata, Spec};
use proptest::prelude::*;

use crate::common::convert::{ToTheirs, theirs};
use crate::sc::{partitions, spus, topics};
use crate::strategies::*;

/// The official object for ours.
fn official<S, T>(ours: &Metadata<S>) -> to::Metadata<T>
where
    S: Spec + ToTheirs<Theirs = T>,
    S::Status: ToTheirs<Theirs = T::Status>,
    T: fluvio_sc_schema::core::Spec + fluvio_protocol::Encoder + fluvio_protocol::Decoder,
    T::Status: fluvio_protocol::Encoder + fluvio_protocol::Decoder,
{
    to::Metadata { name: ours.name.clone(), spec: theirs(&ours.spec), status: theirs(&ours.status) }
}

/// Both print the same pretty JSON and the same YAML; returns the JSON and the YAML.
fn same_output<S, T>(ours: &Metadata<S>) -> (String, String)
where
    S: Spec + ToTheirs<Theirs = T> + serde::Serialize,
    S::Status: ToTheirs<Theirs = T::Status> + serde::Serialize,
    T: fluvio_sc_schema::core::Spec + fluvio_protocol::Encoder + fluvio_protocol::Decoder + serde::Serialize,
    T::Status: fluvio_protocol::Encoder + fluvio_protocol::Decoder + serde::Serialize,
{
    let official = official(ours);
    let json = serde_json::to_string_pretty(&official).expect("official JSON");
    assert_eq!(serde_json::to_string_pretty(ours).expect("our JSON"), json, "JSON of {ours:?}");
    let yaml = serde_yaml::to_string(&official).expect("official YAML");
    assert_eq!(serde_yaml::to_string(ours).expect("our YAML"), yaml, "YAML of {ours:?}");
    (json, yaml)
}

/// Ours reads the official JSON and YAML back into the same object.
fn reads_back<S>(ours: &Metadata<S>, (json, yaml): &(String, String))
where
    S: Spec + serde::de::DeserializeOwned,
    S::Status: serde::de::DeserializeOwned,
{
    let read: Metadata<S> = serde_json::from_str(json).unwrap_or_else(|e| panic!("cannot read {json}: {e}"));
    assert_eq!(&read, ours);
    let read: Metadata<S> = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("cannot read {yaml}: {e}"));
    assert_eq!(&read, ours);
}

#[test]
fn topics_print_as_the_official_cli_prints_them() {
    for topic in topics() {
        let output = same_output::<TopicSpec, _>(&topic);
        // The official attributes leave `ignoreRackAssignment` out when it is true, so that
        // JSON reads back as false, on either side.
        let mut expected = topic.clone();
        if let ReplicaSpec::Computed(param) = &mut expected.spec.replicas {
            param.ignore_rack_assignment = false;
        }
        reads_back(&expected, &output);
    }
}

#[test]
fn partitions_print_as_the_official_cli_prints_them() {
    for partition in partitions() {
        let output = same_output::<PartitionSpec, _>(&partition);
        reads_back(&partition, &output);
    }
}

#[test]
fn spus_print_as_the_official_cli_prints_them() {
    for spu in spus() {
        let output = same_output::<SpuSpec, _>(&spu);
        reads_back(&spu, &output);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_topics_print_alike(spec in topic_spec(), status in topic_status()) {
        same_output::<TopicSpec, _>(&Metadata { name: "t".into(), spec, status });
    }

    #[test]
    fn random_partitions_print_alike(spec in partition_spec(), status in partition_status()) {
        same_output::<PartitionSpec, _>(&Metadata { name: "t-0".into(), spec, status });
    }

    #[test]
    fn random_spus_print_alike(spec in spu_spec(), status in spu_status()) {
        same_output::<SpuSpec, _>(&Metadata { name: "custom-spu-1".into(), spec, status });
    }
}

/// The fixtures of `fluvio-engine/tests/fixtures/official-cli` (objects as a real cluster's CLI
/// printed them, see docs/real-fluvio.md) are exactly what the official types print, in JSON
/// and in YAML; the engine's tests check that ours print them too.
#[test]
fn the_engine_fixtures_are_the_official_output() {
    fn check<T>(name: &str)
    where
        T: fluvio_sc_schema::core::Spec + fluvio_protocol::Encoder + fluvio_protocol::Decoder,
        T::Status: fluvio_protocol::Encoder + fluvio_protocol::Decoder,
        to::Metadata<T>: serde::Serialize + serde::de::DeserializeOwned,
    {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fluvio-engine/tests/fixtures/official-cli/");
        let json = std::fs::read_to_string(format!("{dir}{name}.json")).expect("JSON fixture");
        let yaml = std::fs::read_to_string(format!("{dir}{name}.yaml")).expect("YAML fixture");
        let object: to::Metadata<T> = serde_json::from_str(&json).expect("the official types read it");
        assert_eq!(serde_json::to_string_pretty(&object).unwrap(), json.trim_end(), "{name}.json");
        assert_eq!(serde_yaml::to_string(&object).unwrap(), yaml, "{name}.yaml");
    }
    check::<fluvio_controlplane_metadata::spu::SpuSpec>("spu");
    check::<fluvio_controlplane_metadata::topic::TopicSpec>("topic");
    check::<fluvio_controlplane_metadata::topic::TopicSpec>("topic-retention");
    check::<fluvio_controlplane_metadata::partition::PartitionSpec>("partition");
}
