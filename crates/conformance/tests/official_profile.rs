//! The official client's `Fluvio::connect()` finds the embedded cluster through a profile
//! written in the official format by our code (what `fluvio-local start --profile` does).
//! Its own test binary: it sets FLV_PROFILE_PATH for the process.

use fluvio::Fluvio;
use fluvio::metadata::topic::TopicSpec;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_profile::{ProfileFile, TlsPolicy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_connect_uses_the_current_profile() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path().join("data"))).await.unwrap();
    let path = dir.path().join("config");
    // An existing file with another profile: ours must become current without losing it.
    std::fs::write(
        &path,
        "version = \"2.0\"\ncurrent_profile = \"other\"\n[profile.other]\ncluster = \"other\"\n\
         [cluster.other]\nendpoint = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let mut file = ProfileFile::load(&path).unwrap();
    file.upsert("embedded", "embedded", &cluster.sc_endpoint(), &TlsPolicy::Disabled);
    file.set_current_profile("embedded");
    file.save().unwrap();
    // SAFETY: this binary has a single test, so no other thread reads the environment.
    unsafe { std::env::set_var("FLV_PROFILE_PATH", &path) };

    let fluvio = Fluvio::connect().await.expect("official connect() through the current profile");
    fluvio.admin().await.create("via-profile".to_string(), false, TopicSpec::new_computed(1, 1, None)).await.unwrap();
    let by_name = Fluvio::connect_with_profile("embedded").await.expect("official connect_with_profile()");
    let topics = by_name.admin().await.all::<TopicSpec>().await.unwrap();
    assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["via-profile"]);
    assert!(std::fs::read_to_string(&path).unwrap().contains("[profile.other]"));
    cluster.shutdown().await;
}
