//! `Fluvio::connect()` and `Fluvio::connect_with_profile()` find the profile file through
//! `FLV_PROFILE_PATH`. Environment variables are process-global, so this binary holds a single
//! test that changes the variable step by step.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::{ErrorKind, Fluvio};
use fluvio_profile::{PROFILE_PATH_ENV, ProfileFile, TlsPolicy};

fn set_profile_path(path: &Path) {
    // SAFETY: this binary has one test, and nothing else in the process reads the environment
    // concurrently (the runtime's worker threads and the cluster do not read it).
    unsafe { std::env::set_var(PROFILE_PATH_ENV, path) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reads_the_profile_file_named_by_the_environment() {
    let s = setup(1).await;
    topic(&s.fluvio, "from-env", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = s.cluster.sc_endpoint();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };

    let path = dir.path().join("config");
    let mut file = ProfileFile::new(&path);
    file.upsert("local", "local-cluster", &endpoint, &TlsPolicy::Disabled);
    file.upsert("down", "down-cluster", &closed, &TlsPolicy::Disabled);
    file.set_current_profile("local");
    file.save().unwrap();
    set_profile_path(&path);

    // The current profile, and a named one.
    let fluvio = Fluvio::connect().await.unwrap();
    assert_eq!(fluvio.config().endpoint(), endpoint);
    assert_eq!(fluvio.admin().topic("from-env").await.unwrap().name, "from-env");
    fluvio.close().await;
    let fluvio = Fluvio::connect_with_profile("local").await.unwrap();
    assert_eq!(fluvio.admin().list_topics().await.unwrap().len(), 1);
    fluvio.close().await;

    // A named profile whose cluster is down, and one that does not exist.
    let started = Instant::now();
    let err = Fluvio::connect_with_profile("down").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    assert!(err.is_retriable());
    assert!(started.elapsed() < Duration::from_secs(1));
    let err = Fluvio::connect_with_profile("missing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Profile, "{err:?}");
    assert!(!err.is_retriable());

    // The current profile switches to the cluster that is down.
    file.set_current_profile("down");
    file.save().unwrap();
    assert_eq!(Fluvio::connect().await.unwrap_err().kind(), ErrorKind::Connect);

    // No current profile: connect() fails, a named profile still works.
    let no_current = dir.path().join("no-current");
    let mut file = ProfileFile::new(&no_current);
    file.upsert("local", "local-cluster", &endpoint, &TlsPolicy::Disabled);
    file.save().unwrap();
    set_profile_path(&no_current);
    assert_eq!(Fluvio::connect().await.unwrap_err().kind(), ErrorKind::Profile);
    Fluvio::connect_with_profile("local").await.unwrap().close().await;

    // The variable names a file that does not exist.
    set_profile_path(&dir.path().join("absent"));
    assert_eq!(Fluvio::connect().await.unwrap_err().kind(), ErrorKind::Profile);
    assert_eq!(Fluvio::connect_with_profile("local").await.unwrap_err().kind(), ErrorKind::Profile);

    // Without the variable (unset or empty), the file is `$HOME/.fluvio/config`.
    let home = dir.path().join("home");
    let mut file = ProfileFile::new(home.join(".fluvio").join("config"));
    file.upsert("home", "home-cluster", &endpoint, &TlsPolicy::Disabled);
    file.set_current_profile("home");
    file.save().unwrap();
    let previous_home = std::env::var_os("HOME");
    // SAFETY: as above.
    unsafe { std::env::set_var("HOME", &home) };
    set_profile_path(Path::new(""));
    Fluvio::connect().await.unwrap().close().await;
    // SAFETY: as above.
    unsafe { std::env::remove_var(PROFILE_PATH_ENV) };
    Fluvio::connect_with_profile("home").await.unwrap().close().await;
    assert_eq!(Fluvio::connect_with_profile("local").await.unwrap_err().kind(), ErrorKind::Profile);

    // No profile file anywhere.
    // SAFETY: as above.
    unsafe { std::env::set_var("HOME", dir.path().join("empty-home")) };
    assert_eq!(Fluvio::connect().await.unwrap_err().kind(), ErrorKind::Profile);

    // SAFETY: as above.
    unsafe {
        match previous_home {
            Some(home) => std::env::set_var("HOME", home),
            None => std::env::remove_var("HOME"),
        }
    }
    s.shutdown().await;
}
