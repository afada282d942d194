//! YAML renderings of admin objects are byte for byte what they were: the fixture was written
//! with serde_yaml 0.9 (before it was replaced by serde_norway, its maintained fork), and covers
//! every kind of value the renderings hold: objects shaped as admin objects are, and the scalars
//! YAML must quote or may not (booleans and null spelled as strings, numbers, empty, multi-line
//! and non-ASCII text), nested maps and lists, empty ones.
//!
//! `FLUVIO_WRITE_YAML_FIXTURE=1 cargo test -p fluvio-engine --test yaml_rendering` rewrites the
//! fixture (only ever on purpose).

use fluvio_engine::admin::to_yaml;
use serde_json::json;

const FIXTURE: &str = "tests/fixtures/admin.yaml";

/// An object shaped as admin objects are (their own shapes are their serde attributes' business
/// and are compared with JSON in `admin.rs`; this pins the YAML writer).
fn object() -> serde_json::Value {
    json!({
        "name": "orders",
        "spec": {
            "cleanupPolicy": {"segment": {"timeInSeconds": 604_800}},
            "compressionType": "lz4",
            "replicas": {"computed": {"ignoreRackAssignment": false, "partitions": 2, "replicationFactor": 3}},
            "storage": {"maxPartitionSize": 18_446_744_073_709_551_615u64, "segmentSize": 1_073_741_824},
            "system": false,
        },
        "status": {"reason": "", "replicaMap": {"0": [5001, 5002], "1": [5002, 5001]}, "resolution": "Provisioned"},
    })
}

fn scalars() -> serde_json::Value {
    json!({
        "plain": "text",
        "booleans as text": ["yes", "no", "true", "False", "on", "off", "y", "n"],
        "null as text": ["null", "~", "Null", ""],
        "numbers as text": ["1", "-2", "1.5", "1e3", "0x1f", "0o17", ".inf", "-.nan", "007"],
        "special": ["a: b", "- item", "#comment", "key: value # c", " leading", "trailing ", "@at", "`tick", "!bang",
            "&anchor", "*alias", "%pct", "|pipe", ">gt", "'quote", "\"double", "{brace", "[bracket", "comma,", "?q"],
        "multi-line": "first line\nsecond line\n",
        "unicode": "caf\u{e9} \u{1f600} \u{4e2d}\u{6587}",
        "control": "tab\there",
        "numbers": [0, -1, 42, 9_223_372_036_854_775_807i64, 18_446_744_073_709_551_615u64, 1.5, -0.25, 1e300],
        "booleans": [true, false],
        "null": null,
        "empty list": [],
        "empty map": {},
        "nested": {"list of maps": [{"a": 1}, {"b": [1, [2, []]]}], "map": {"inner": {"deep": "value"}}},
    })
}

fn render_all() -> String {
    let mut rendered = String::new();
    for (name, yaml) in [
        ("object", to_yaml(&object())),
        ("list of objects", to_yaml(&vec![object(), object()])),
        ("scalars", to_yaml(&scalars())),
    ] {
        rendered.push_str(&format!("# ---- {name}\n{}", yaml.unwrap()));
    }
    rendered
}

#[test]
fn yaml_renderings_are_unchanged() {
    let rendered = render_all();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    if std::env::var_os("FLUVIO_WRITE_YAML_FIXTURE").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(rendered, expected, "YAML differs from the fixture written with serde_yaml 0.9");
}
