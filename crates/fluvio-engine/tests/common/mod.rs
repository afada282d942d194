//! Shared setup: an embedded cluster in a temporary directory and a client connected to it.

#![allow(dead_code)]

use std::time::Duration;

use fluvio_engine::{ClientConfig, Fluvio, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster};

pub struct Setup {
    pub cluster: LocalCluster,
    pub fluvio: Fluvio,
    pub dir: tempfile::TempDir,
}

pub async fn setup(spus: u16) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(spus)).await.expect("cluster starts");
    let fluvio = connect(&cluster).await;
    Setup { cluster, fluvio, dir }
}

pub async fn connect(cluster: &LocalCluster) -> Fluvio {
    Fluvio::connect_with_config(config(cluster)).await.expect("client connects")
}

pub fn config(cluster: &LocalCluster) -> ClientConfig {
    ClientConfig::new(cluster.sc_endpoint())
        .with_connect_timeout(Duration::from_secs(5))
        .with_request_timeout(Duration::from_secs(10))
}

pub async fn topic(fluvio: &Fluvio, name: &str, partitions: u32) {
    fluvio.admin().create_topic(name, &TopicConfig::new(partitions, 1)).await.expect("topic created");
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl Setup {
    pub async fn shutdown(self) {
        self.fluvio.close().await;
        self.cluster.shutdown().await;
    }
}
