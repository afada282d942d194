//! `to_json`/`to_yaml` print the SC objects exactly as the official CLI does (`-O json`,
//! `-O yaml`): the fixtures in `fixtures/official-cli` are objects a real Fluvio 0.18.2 cluster's
//! CLI printed (docs/real-fluvio.md), checked against the official types' own rendering in
//! `crates/conformance/tests/codec/cli_output.rs`.

use fluvio_engine::admin::{Metadata, PartitionSpec, SpuSpec, TopicSpec, to_json, to_yaml};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/official-cli/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads the JSON fixture `name` into our type and prints it back in both formats.
fn prints_as_the_official_cli<S>(name: &str)
where
    Metadata<S>: serde::Serialize + serde::de::DeserializeOwned,
    S: fluvio_wire::sc::Spec,
{
    let json = fixture(&format!("{name}.json"));
    let object: Metadata<S> = serde_json::from_str(&json).expect("read the official JSON");
    assert_eq!(to_json(&object).unwrap(), json.trim_end(), "{name}: JSON");
    assert_eq!(to_yaml(&object).unwrap(), fixture(&format!("{name}.yaml")), "{name}: YAML");
    let from_yaml: Metadata<S> = serde_norway::from_str(&fixture(&format!("{name}.yaml"))).expect("read the YAML");
    assert_eq!(from_yaml, object, "{name}: YAML reads back");
}

#[test]
fn an_spu_prints_as_the_official_cli_prints_it() {
    prints_as_the_official_cli::<SpuSpec>("spu");
}

#[test]
fn topics_print_as_the_official_cli_prints_them() {
    prints_as_the_official_cli::<TopicSpec>("topic");
    prints_as_the_official_cli::<TopicSpec>("topic-retention");
}

#[test]
fn a_partition_prints_as_the_official_cli_prints_it() {
    prints_as_the_official_cli::<PartitionSpec>("partition");
}
