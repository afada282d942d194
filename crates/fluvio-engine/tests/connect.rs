//! Connections, version negotiation, timeouts, reconnection, profiles, several clusters, and
//! metadata lookups, over real sockets against the embedded cluster (and small fake servers
//! where a misbehaving server is needed).

mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::{ClientConfig, ErrorKind, Fluvio, Offset, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_profile::{ProfileFile, TlsPolicy};
use fluvio_wire::{sc, spu};
use support::*;

/// Generous bound for anything that must happen "at once" on the local machine.
const PROMPT: Duration = Duration::from_secs(1);

fn assert_kind<T>(result: fluvio_engine::Result<T>, kind: ErrorKind) -> fluvio_engine::Error {
    match result {
        Ok(_) => panic!("expected an error of kind {kind:?}, got success"),
        Err(err) => {
            assert_eq!(err.kind(), kind, "{err:?}");
            err
        }
    }
}

fn short_timeouts(endpoint: impl Into<String>, connect: Duration, request: Duration) -> ClientConfig {
    ClientConfig::new(endpoint).with_connect_timeout(connect).with_request_timeout(request)
}

// ---------------------------------------------------------------------------------------------
// One multiplexed connection per server
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_per_server_carries_concurrent_requests_and_streams() {
    let s = setup(2).await;
    topic(&s.fluvio, "multiplexed", 4).await;
    let fluvio = s.fluvio.clone();

    // Several streams on one client: one per partition plus a topic-wide stream.
    let mut partition_streams = Vec::new();
    for p in 0..4 {
        partition_streams.push(fluvio.partition_consumer("multiplexed", p).stream(Offset::beginning()).await.unwrap());
    }
    let mut topic_stream = fluvio.consumer("multiplexed").stream(Offset::beginning()).await.unwrap();

    // Many admin calls in flight at once, while records are produced.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..60 {
        let admin = fluvio.admin();
        calls.spawn(async move {
            match i % 3 {
                0 => admin.list_topics().await.map(|t| t.len()),
                1 => admin.list_partitions(Some("multiplexed")).await.map(|p| p.len()),
                _ => admin.list_spus().await.map(|s| s.len()),
            }
        });
    }
    let producer = fluvio.topic_producer("multiplexed").await.unwrap();
    for i in 0..200u32 {
        producer.send_to(Some(i % 4), None, format!("v{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();

    let mut completed = 0;
    while let Some(joined) = tokio::time::timeout(Duration::from_secs(30), calls.join_next()).await.unwrap() {
        let count = joined.unwrap().expect("admin call succeeds");
        assert!(count == 1 || count == 2 || count == 4, "unexpected count {count}");
        completed += 1;
    }
    assert_eq!(completed, 60);

    for (p, stream) in partition_streams.iter_mut().enumerate() {
        for offset in 0..50 {
            let record = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
            assert_eq!((record.partition as usize, record.offset), (p, offset));
        }
    }
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let record =
            tokio::time::timeout(Duration::from_secs(10), topic_stream.next()).await.unwrap().unwrap().unwrap();
        assert!(seen.insert((record.partition, record.offset)), "duplicate {record:?}");
    }
    assert_eq!(seen.len(), 200);

    // Requests went over one connection to the SC and one to each SPU; each stream session
    // has a connection of its own to its leader (closing it is how a session ends on the
    // server), so an SPU also has one per stream of a partition it leads.
    let leaders: Vec<i32> =
        fluvio.admin().list_partitions(Some("multiplexed")).await.unwrap().iter().map(|p| p.spec.leader).collect();
    assert_eq!(established_to(s.cluster.sc_addr().port()), 1, "connections to the SC");
    for (id, addr) in s.cluster.spu_addrs() {
        // One partition stream and one topic-stream session per partition led.
        let led = leaders.iter().filter(|leader| **leader == id).count();
        assert_eq!(established_to(addr.port()), 1 + 2 * led, "connections to SPU {id}");
    }
    // Dropping the streams closes their sessions' connections; the shared ones stay.
    drop(partition_streams);
    drop(topic_stream);
    for (id, addr) in s.cluster.spu_addrs() {
        eventually(Duration::from_secs(5), "stream connections close", || async move {
            (established_to(addr.port()) == 1).then_some(())
        })
        .await;
        assert_eq!(established_to(addr.port()), 1, "connections to SPU {id} after the streams ended");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_or_dropping_a_client_releases_its_connections() {
    let s = setup(2).await;
    topic(&s.fluvio, "released", 2).await;
    let sc_port = s.cluster.sc_addr().port();
    let spu_ports: Vec<u16> = s.cluster.spu_addrs().iter().map(|(_, addr)| addr.port()).collect();
    let all_ports: Vec<u16> = std::iter::once(sc_port).chain(spu_ports.iter().copied()).collect();
    let count = |ports: &[u16]| ports.iter().map(|p| established_to(*p)).sum::<usize>();

    async fn use_every_server(fluvio: &Fluvio) {
        let producer = fluvio.topic_producer("released").await.unwrap();
        for p in 0..2 {
            producer.send_to(Some(p), None, b"v").await.unwrap();
        }
        producer.close().await.unwrap();
        let mut stream = fluvio.partition_consumer("released", 1).stream(Offset::beginning()).await.unwrap();
        stream.next().await.unwrap().unwrap();
    }

    // The shared setup client: one connection to the SC and one to each SPU.
    use_every_server(&s.fluvio).await;
    assert_eq!(count(&all_ports), 3);

    // A second client, closed explicitly.
    let closed = connect(&s.cluster).await;
    use_every_server(&closed).await;
    assert_eq!(count(&all_ports), 6);
    closed.close().await;
    eventually(Duration::from_secs(5), "close() releases every connection", || async {
        (count(&all_ports) == 3).then_some(())
    })
    .await;

    // A third client, simply dropped with everything made from it.
    let dropped = connect(&s.cluster).await;
    use_every_server(&dropped).await;
    assert_eq!(count(&all_ports), 6);
    drop(dropped);
    eventually(Duration::from_secs(5), "dropping the client releases every connection", || async {
        (count(&all_ports) == 3).then_some(())
    })
    .await;
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Version negotiation
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sc_without_the_needed_versions_is_refused() {
    let cases: Vec<(&str, fluvio_wire::ApiVersionsResponse)> = vec![
        ("watch only up to v14", sc_versions(|keys| set_range(keys, sc::keys::WATCH, 11, 14))),
        ("no watch at all", sc_versions(|keys| remove_key(keys, sc::keys::WATCH))),
        ("only newer list versions", sc_versions(|keys| set_range(keys, sc::keys::LIST, 20, 25))),
        ("nothing advertised", sc_versions(|keys| keys.clear())),
    ];
    for (case, versions) in cases {
        let server = FakeServer::start(Behavior::Versions(versions)).await;
        let started = Instant::now();
        let err = assert_kind(
            Fluvio::connect_with_config(short_timeouts(
                server.endpoint(),
                Duration::from_secs(5),
                Duration::from_secs(5),
            ))
            .await,
            ErrorKind::IncompatibleServer,
        );
        assert!(started.elapsed() < PROMPT, "{case}: refused after {:?}", started.elapsed());
        assert!(!err.is_retriable(), "{case}: an incompatible server stays incompatible");
        assert_eq!(server.requests(), 1, "{case}: only ApiVersions was sent");
        // The refused connection is closed, not kept.
        eventually(Duration::from_secs(5), "the refused connection is closed", || async {
            (server.hung_up() == 1).then_some(())
        })
        .await;
    }

    // The same fake server with every range the engine needs is accepted.
    let server = FakeServer::start(Behavior::Versions(sc_versions(|_| {}))).await;
    let fluvio =
        Fluvio::connect_with_config(short_timeouts(server.endpoint(), Duration::from_secs(5), Duration::from_secs(5)))
            .await
            .expect("a compatible server is accepted");
    assert_eq!(fluvio.platform_version(), "0.50.1");
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_spu_without_the_needed_versions_is_refused() {
    let s = setup(1).await;
    topic(&s.fluvio, "old-spu", 1).await;
    // The client knows the SPU's address from its metadata; then the SPU is replaced, on the
    // same port, by a server that offers only older StreamFetch and Produce versions.
    let server = replace_spu(
        &s.cluster,
        Behavior::Versions(spu_versions(|keys| {
            set_range(keys, spu::keys::STREAM_FETCH, 0, 10);
            set_range(keys, spu::keys::PRODUCE, 0, 7);
        })),
    )
    .await;

    let started = Instant::now();
    let err = assert_kind(
        s.fluvio.partition_consumer("old-spu", 0).stream(Offset::beginning()).await,
        ErrorKind::IncompatibleServer,
    );
    assert!(!err.is_retriable());
    assert!(started.elapsed() < Duration::from_secs(5), "refused after {:?}", started.elapsed());
    assert!(server.accepted() >= 1);

    let producer = s.fluvio.topic_producer("old-spu").await.unwrap();
    let output = producer.send(None, b"v").await.unwrap();
    let err = assert_kind(producer.flush().await, ErrorKind::IncompatibleServer);
    assert!(!err.is_retriable());
    assert_eq!(output.wait().await.unwrap_err().kind(), ErrorKind::IncompatibleServer);
    drop(server);
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Timeouts and connection failures
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_within_the_connect_timeout() {
    let server = FakeServer::start(Behavior::Silent).await;
    let connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = assert_kind(
        Fluvio::connect_with_config(short_timeouts(server.endpoint(), connect_timeout, Duration::from_secs(30))).await,
        ErrorKind::ConnectTimeout,
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= connect_timeout - Duration::from_millis(20), "gave up after {elapsed:?}");
    assert!(elapsed < connect_timeout + Duration::from_secs(2), "gave up after {elapsed:?}");
    assert!(err.is_retriable());
    assert_eq!(server.accepted(), 1);
    // The abandoned attempt does not leave its socket open.
    eventually(Duration::from_secs(5), "the timed-out connection is closed", || async {
        (server.hung_up() == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_a_connect_error() {
    let started = Instant::now();
    let err = assert_kind(
        Fluvio::connect_with_config(short_timeouts(closed_endpoint(), Duration::from_secs(5), Duration::from_secs(5)))
            .await,
        ErrorKind::Connect,
    );
    assert!(started.elapsed() < PROMPT, "failed after {:?}", started.elapsed());
    assert!(err.is_retriable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_up_fails_at_once() {
    let server = FakeServer::start(Behavior::HangUp).await;
    let started = Instant::now();
    let err =
        Fluvio::connect_with_config(short_timeouts(server.endpoint(), Duration::from_secs(5), Duration::from_secs(5)))
            .await
            .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect | ErrorKind::ConnectionClosed), "{err:?}");
    assert!(err.is_retriable());
    assert!(started.elapsed() < PROMPT, "failed after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_requests_time_out_within_the_request_timeout() {
    // Negotiation succeeds; nothing else is ever answered.
    let server = FakeServer::start(Behavior::Versions(sc_versions(|_| {}))).await;
    let request_timeout = Duration::from_millis(400);
    let fluvio =
        Fluvio::connect_with_config(short_timeouts(server.endpoint(), Duration::from_secs(5), request_timeout))
            .await
            .expect("negotiation succeeds");

    let started = Instant::now();
    let err = assert_kind(fluvio.admin().list_topics().await, ErrorKind::Timeout);
    let elapsed = started.elapsed();
    assert!(elapsed >= request_timeout - Duration::from_millis(20), "gave up after {elapsed:?}");
    assert!(elapsed < request_timeout + Duration::from_secs(2), "gave up after {elapsed:?}");
    assert!(err.is_retriable());

    // No metadata ever arrives: lookups give up within the request timeout too.
    let started = Instant::now();
    let err = assert_kind(fluvio.topic_producer("t").await, ErrorKind::Timeout);
    assert!(started.elapsed() < request_timeout + Duration::from_secs(2), "gave up after {:?}", started.elapsed());
    assert!(err.is_retriable());

    // A timed-out request does not cost the connection.
    assert_eq!(server.accepted(), 1);
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_settings_fail_before_any_io() {
    let server = FakeServer::start(Behavior::Silent).await;
    let endpoint = server.endpoint();
    let configs = [
        ClientConfig::new("127.0.0.1"),
        ClientConfig::new(":9003"),
        ClientConfig::new("localhost:port"),
        ClientConfig::new("localhost:70000"),
        ClientConfig::new(endpoint.clone()).with_connect_timeout(Duration::ZERO),
        ClientConfig::new(endpoint.clone()).with_request_timeout(Duration::ZERO),
    ];
    for config in configs {
        let started = Instant::now();
        let err = assert_kind(Fluvio::connect_with_config(config.clone()).await, ErrorKind::Config);
        assert!(!err.is_retriable(), "{config:?}");
        assert!(started.elapsed() < Duration::from_millis(200), "{config:?}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.accepted(), 0, "no connection was attempted");
}

/// Stops the only SPU of `cluster` and serves its port with a fake server instead.
async fn replace_spu(cluster: &LocalCluster, behavior: Behavior) -> FakeServer {
    let (id, addr) = cluster.spu_addrs()[0];
    cluster.stop_spu(id).await.unwrap();
    let listener = eventually(Duration::from_secs(10), "the SPU's port is free again", || async {
        tokio::net::TcpListener::bind(addr).await.ok()
    })
    .await;
    FakeServer::start_on(listener, behavior)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_spu_times_out_within_the_connect_timeout() {
    let s = setup(1).await;
    topic(&s.fluvio, "silent-spu", 1).await;
    let connect_timeout = Duration::from_millis(300);
    let fluvio =
        Fluvio::connect_with_config(common::config(&s.cluster).with_connect_timeout(connect_timeout)).await.unwrap();
    // The client knows the partition's leader before the SPU goes silent (and keeps no
    // connection to it yet).
    fluvio.topic_producer("silent-spu").await.unwrap();
    let server = replace_spu(&s.cluster, Behavior::Silent).await;

    let started = Instant::now();
    let err = assert_kind(fluvio.partition_consumer("silent-spu", 0).offsets().await, ErrorKind::ConnectTimeout);
    let elapsed = started.elapsed();
    assert!(err.is_retriable());
    assert!(elapsed >= connect_timeout - Duration::from_millis(20), "gave up after {elapsed:?}");
    assert!(elapsed < connect_timeout + Duration::from_secs(2), "gave up after {elapsed:?}");
    assert_eq!(server.accepted(), 1);

    // Callers that reach the SPU at the same time are not queued one connect timeout each.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let consumer = fluvio.partition_consumer("silent-spu", 0);
        calls.spawn(async move {
            let started = Instant::now();
            let result = consumer.offsets().await;
            (result.map(drop), started.elapsed())
        });
    }
    while let Some(joined) = calls.join_next().await {
        let (result, elapsed) = joined.unwrap();
        assert!(assert_kind(result, ErrorKind::ConnectTimeout).is_retriable());
        assert!(elapsed < connect_timeout + Duration::from_millis(700), "gave up after {elapsed:?}");
    }
    fluvio.close().await;
    drop(server);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_spu_that_never_answers_times_out_within_the_request_timeout() {
    let s = setup(1).await;
    topic(&s.fluvio, "mute-spu", 1).await;
    let request_timeout = Duration::from_millis(500);
    let fluvio =
        Fluvio::connect_with_config(common::config(&s.cluster).with_request_timeout(request_timeout)).await.unwrap();
    // Learn the SPU's address, then put a server there that negotiates and then stays silent.
    fluvio.partition_consumer("mute-spu", 0).offsets().await.unwrap();
    let server = replace_spu(&s.cluster, Behavior::Versions(spu_versions(|_| {}))).await;

    let started = Instant::now();
    let err = assert_kind(fluvio.partition_consumer("mute-spu", 0).offsets().await, ErrorKind::Timeout);
    let elapsed = started.elapsed();
    assert!(err.is_retriable());
    assert!(elapsed >= request_timeout - Duration::from_millis(20), "gave up after {elapsed:?}");
    assert!(elapsed < request_timeout + Duration::from_secs(2), "gave up after {elapsed:?}");
    assert_eq!(server.accepted(), 1, "the broken connection was replaced once");

    // Opening a stream retries within the request timeout, then gives up.
    let started = Instant::now();
    let err =
        assert_kind(fluvio.partition_consumer("mute-spu", 0).stream(Offset::beginning()).await, ErrorKind::Timeout);
    assert!(err.is_retriable());
    assert!(started.elapsed() < 2 * request_timeout + Duration::from_secs(2), "gave up after {:?}", started.elapsed());
    fluvio.close().await;
    drop(server);
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Reconnection
// ---------------------------------------------------------------------------------------------

/// Stops `cluster` and starts a new one on the same SC and SPU ports, on `dir`.
async fn restart(cluster: LocalCluster, dir: &Path, same_spu_ports: bool) -> LocalCluster {
    let sc_port = cluster.sc_addr().port();
    let spu_ports: Vec<u16> = cluster.spu_addrs().iter().map(|(_, addr)| addr.port()).collect();
    let spus = spu_ports.len() as u16;
    cluster.shutdown().await;
    let mut config = ClusterConfig::new(dir).spus(spus).sc_port(sc_port);
    if same_spu_ports {
        config = config.spu_ports(spu_ports);
    }
    LocalCluster::start(config).await.expect("the cluster starts again on the same ports")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_connection_is_replaced_for_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let sc_port = free_port();
    let spu_port = free_port();
    let cluster =
        LocalCluster::start(ClusterConfig::new(dir.path()).sc_port(sc_port).spu_ports(vec![spu_port])).await.unwrap();
    assert_eq!(cluster.sc_addr().port(), sc_port);
    let fluvio = connect(&cluster).await;
    topic(&fluvio, "kept", 1).await;
    topic(&fluvio, "doomed", 1).await;
    let producer = fluvio.topic_producer("kept").await.unwrap();
    for i in 0..10 {
        producer.send(None, format!("a{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    let mut stream = fluvio.partition_consumer("kept", 0).stream(Offset::beginning()).await.unwrap();
    for offset in 0..10 {
        assert_eq!(stream.next().await.unwrap().unwrap().offset, offset);
    }

    // Every connection of the client breaks; the same cluster comes back on the same ports.
    let cluster = restart(cluster, dir.path(), true).await;

    // The next admin call reconnects by itself.
    let names: Vec<String> = fluvio.admin().list_topics().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["doomed", "kept"]);

    // The existing producer and a new one deliver again; the open stream resumes.
    for i in 10..20 {
        producer.send(None, format!("a{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    let second = fluvio.topic_producer("kept").await.unwrap();
    let last = second.send(None, b"from-a-new-producer").await.unwrap();
    second.flush().await.unwrap();
    assert_eq!(last.wait().await.unwrap().offset, 20);
    for offset in 10..21 {
        let record = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(record.offset, offset);
    }

    // The watches resumed: a topic another client creates now is usable (its partition is only
    // learned through the partition watch), and a topic another client deletes disappears.
    let other = connect(&cluster).await;
    topic(&other, "after", 1).await;
    other.admin().delete_topic("doomed").await.unwrap();
    let after = fluvio.topic_producer("after").await.unwrap();
    let output = after.send(None, b"x").await.unwrap();
    after.flush().await.unwrap();
    assert_eq!(output.wait().await.unwrap().offset, 0);
    eventually(Duration::from_secs(10), "the deletion reaches the client's metadata", || async {
        fluvio.topic_producer("doomed").await.err().filter(|e| e.kind() == ErrorKind::TopicNotFound)
    })
    .await;

    // Broken connections were replaced, not added to: one SC connection per client, and to
    // the SPU one shared connection plus the open stream's own (only the first client talked
    // to the SPU).
    assert_eq!(established_to(sc_port), 2, "connections to the SC");
    assert_eq!(established_to(spu_port), 2, "connections to the SPU");
    other.close().await;

    // A longer outage: calls made meanwhile fail at once with a retriable error, and records
    // sent meanwhile are delivered once the cluster is back.
    cluster.shutdown().await;
    let started = Instant::now();
    let err = fluvio.admin().list_topics().await.map(drop).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Connect | ErrorKind::ConnectionClosed), "{err:?}");
    assert!(err.is_retriable());
    assert!(started.elapsed() < PROMPT, "failed after {:?}", started.elapsed());
    let mut pending = Vec::new();
    for i in 21..26 {
        pending.push(producer.send(None, format!("a{i}").as_bytes()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cluster =
        LocalCluster::start(ClusterConfig::new(dir.path()).sc_port(sc_port).spu_ports(vec![spu_port])).await.unwrap();
    producer.flush().await.unwrap();
    for (output, offset) in pending.iter().zip(21..) {
        assert_eq!(output.wait().await.unwrap().offset, offset);
    }
    for offset in 21..26 {
        let record = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(record.offset, offset);
    }
    assert_eq!(fluvio.admin().list_topics().await.unwrap().len(), 2);
    assert_eq!(established_to(sc_port), 1, "connections to the SC");
    assert_eq!(established_to(spu_port), 2, "connections to the SPU: shared, and the stream's own");
    fluvio.close().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_to_a_silent_sc_is_bounded_by_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let sc_addr = cluster.sc_addr();
    let connect_timeout = Duration::from_millis(300);
    let fluvio = Fluvio::connect_with_config(
        ClientConfig::new(cluster.sc_endpoint())
            .with_connect_timeout(connect_timeout)
            .with_request_timeout(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    fluvio.admin().list_topics().await.unwrap();

    // The SC goes away and something that accepts but never answers takes its port.
    cluster.shutdown().await;
    let listener = eventually(Duration::from_secs(10), "the SC's port is free again", || async {
        tokio::net::TcpListener::bind(sc_addr).await.ok()
    })
    .await;
    let server = FakeServer::start_on(listener, Behavior::Silent);
    // Let the client notice the old connection is gone (a request sent before it does fails with
    // ConnectionClosed instead); its watches then keep trying to reconnect in the background.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for attempt in 0..5 {
        let started = Instant::now();
        let err = assert_kind(fluvio.admin().list_topics().await, ErrorKind::ConnectTimeout);
        let elapsed = started.elapsed();
        assert!(err.is_retriable());
        assert!(elapsed < connect_timeout + Duration::from_millis(700), "attempt {attempt} gave up after {elapsed:?}");
        tokio::time::sleep(Duration::from_millis(attempt * 100)).await;
    }
    assert!(server.accepted() >= 5);
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_metadata_reflects_the_new_cluster() {
    let first_dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(first_dir.path()).spus(2)).await.unwrap();
    let fluvio = connect(&cluster).await;
    topic(&fluvio, "gone", 2).await;
    let producer = fluvio.topic_producer("gone").await.unwrap();
    producer.send(None, b"v").await.unwrap();
    producer.flush().await.unwrap();
    let old_spus = cluster.spu_addrs();

    // A different cluster (empty data directory, SPUs on new ports) on the same SC port.
    let second_dir = tempfile::tempdir().unwrap();
    let cluster = restart(cluster, second_dir.path(), false).await;
    let new_spus = cluster.spu_addrs();
    assert_ne!(old_spus, new_spus);

    // The cached topic is dropped once the watch resynchronizes.
    eventually(Duration::from_secs(10), "the old topic leaves the cache", || async {
        fluvio.topic_producer("gone").await.err().filter(|e| e.kind() == ErrorKind::TopicNotFound)
    })
    .await;
    assert!(fluvio.admin().list_topics().await.unwrap().is_empty());
    let spus: BTreeMap<i32, String> = fluvio
        .admin()
        .list_spus()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.spec.id, s.spec.public_endpoint.address().unwrap()))
        .collect();
    let expected: BTreeMap<i32, String> = new_spus.iter().map(|(id, addr)| (*id, addr.to_string())).collect();
    assert_eq!(spus, expected);

    // Records go to the SPUs at their new addresses.
    topic(&fluvio, "fresh", 2).await;
    let producer = fluvio.topic_producer("fresh").await.unwrap();
    let outputs: Vec<_> = {
        let mut outputs = Vec::new();
        for p in 0..2 {
            outputs.push(producer.send_to(Some(p), None, b"v").await.unwrap());
        }
        outputs
    };
    producer.flush().await.unwrap();
    for output in outputs {
        assert_eq!(output.wait().await.unwrap().offset, 0);
    }
    for (id, addr) in new_spus {
        assert_eq!(established_to(addr.port()), 1, "one connection to SPU {id} at its new address");
    }
    fluvio.close().await;
    cluster.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------

fn write_profiles(path: &Path, profiles: &[(&str, &str)], current: Option<&str>) {
    let mut file = ProfileFile::new(path);
    for (name, endpoint) in profiles {
        file.upsert(name, &format!("{name}-cluster"), endpoint, &TlsPolicy::Disabled);
    }
    if let Some(current) = current {
        file.set_current_profile(current);
    }
    file.save().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_file_names_the_cluster() {
    let s = setup(1).await;
    topic(&s.fluvio, "via-profile", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let endpoint = s.cluster.sc_endpoint();
    write_profiles(
        &path,
        &[("local", &endpoint), ("down", &closed_endpoint()), ("no-port", "127.0.0.1")],
        Some("local"),
    );

    for name in [None, Some("local")] {
        let fluvio = Fluvio::connect_with_profile_file(&path, name).await.unwrap();
        assert_eq!(fluvio.config().endpoint(), endpoint);
        assert_eq!(fluvio.admin().topic("via-profile").await.unwrap().name, "via-profile");
        fluvio.close().await;
    }

    // A host name resolves; SPUs without a local endpoint are reached at their public one.
    let by_name = dir.path().join("by-name");
    let port = s.cluster.sc_addr().port();
    std::fs::write(
        &by_name,
        format!(
            "version = \"2.0\"\ncurrent_profile = \"named\"\n[profile.named]\ncluster = \"c\"\n\
             [cluster.c]\nendpoint = \"localhost:{port}\"\nuse_spu_local_address = true\n"
        ),
    )
    .unwrap();
    let fluvio = Fluvio::connect_with_profile_file(&by_name, None).await.unwrap();
    assert!(fluvio.config().use_spu_local_address());
    let producer = fluvio.topic_producer("via-profile").await.unwrap();
    let output = producer.send(None, b"through localhost").await.unwrap();
    producer.flush().await.unwrap();
    output.wait().await.unwrap();
    fluvio.close().await;

    let started = Instant::now();
    let err = assert_kind(Fluvio::connect_with_profile_file(&path, Some("down")).await, ErrorKind::Connect);
    assert!(err.is_retriable());
    assert!(started.elapsed() < PROMPT);
    assert!(
        !assert_kind(Fluvio::connect_with_profile_file(&path, Some("no-port")).await, ErrorKind::Config).is_retriable()
    );
    assert!(
        !assert_kind(Fluvio::connect_with_profile_file(&path, Some("missing")).await, ErrorKind::Profile)
            .is_retriable()
    );

    // No current profile: only an explicit name works.
    let no_current = dir.path().join("no-current");
    write_profiles(&no_current, &[("local", &endpoint)], None);
    assert_kind(Fluvio::connect_with_profile_file(&no_current, None).await, ErrorKind::Profile);
    Fluvio::connect_with_profile_file(&no_current, Some("local")).await.unwrap().close().await;

    // The current profile names a profile that is not there.
    let dangling = dir.path().join("dangling");
    write_profiles(&dangling, &[("local", &endpoint)], Some("elsewhere"));
    assert_kind(Fluvio::connect_with_profile_file(&dangling, None).await, ErrorKind::Profile);

    // A profile refers to a cluster that is not there.
    let no_cluster = dir.path().join("no-cluster");
    std::fs::write(
        &no_cluster,
        "version = \"2.0\"\ncurrent_profile = \"p\"\n[profile.p]\ncluster = \"c\"\n[cluster.other]\nendpoint = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    assert_kind(Fluvio::connect_with_profile_file(&no_cluster, None).await, ErrorKind::Profile);

    // Missing and unreadable files.
    assert_kind(Fluvio::connect_with_profile_file(&dir.path().join("absent"), None).await, ErrorKind::Profile);
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "this is [not toml").unwrap();
    assert_kind(Fluvio::connect_with_profile_file(&garbage, None).await, ErrorKind::Profile);
    assert_kind(Fluvio::connect_with_profile_file(dir.path(), None).await, ErrorKind::Profile);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_endpoint_that_never_answers_times_out_within_the_default_connect_timeout() {
    let server = FakeServer::start(Behavior::Silent).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    write_profiles(&path, &[("silent", &server.endpoint())], Some("silent"));
    let started = Instant::now();
    let err = assert_kind(Fluvio::connect_with_profile_file(&path, None).await, ErrorKind::ConnectTimeout);
    let elapsed = started.elapsed();
    let timeout = fluvio_engine::config::DEFAULT_CONNECT_TIMEOUT;
    assert!(elapsed >= timeout - Duration::from_millis(50), "gave up after {elapsed:?}");
    assert!(elapsed < timeout + Duration::from_secs(3), "gave up after {elapsed:?}");
    assert!(err.is_retriable());
}

// ---------------------------------------------------------------------------------------------
// Several clusters in one process
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_to_two_clusters_do_not_mix() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = LocalCluster::start(ClusterConfig::new(dir_a.path())).await.unwrap();
    let b = LocalCluster::start(ClusterConfig::new(dir_b.path()).spus(2)).await.unwrap();
    let profiles = dir_a.path().join("profiles");
    write_profiles(&profiles, &[("a", &a.sc_endpoint()), ("b", &b.sc_endpoint())], Some("a"));
    let fa = Fluvio::connect_with_profile_file(&profiles, None).await.unwrap();
    let fb = Fluvio::connect_with_profile_file(&profiles, Some("b")).await.unwrap();

    // The same topic name on both, plus one topic each only exists on its own cluster.
    topic(&fa, "shared", 1).await;
    topic(&fb, "shared", 2).await;
    topic(&fa, "only-a", 1).await;
    topic(&fb, "only-b", 1).await;
    assert_kind(fa.topic_producer("only-b").await, ErrorKind::TopicNotFound);
    assert_kind(fb.topic_producer("only-a").await, ErrorKind::TopicNotFound);
    assert_eq!(fa.admin().list_spus().await.unwrap().len(), 1);
    assert_eq!(fb.admin().list_spus().await.unwrap().len(), 2);

    // Produce and consume on both at the same time.
    async fn round_trip(fluvio: Fluvio, prefix: &'static str, partitions: u32) -> Vec<String> {
        let producer = fluvio.topic_producer("shared").await.unwrap();
        let mut stream = fluvio.consumer("shared").stream(Offset::beginning()).await.unwrap();
        assert_eq!(stream_partitions(&fluvio).await, partitions);
        for i in 0..300 {
            producer.send(Some(format!("k{i}").as_bytes()), format!("{prefix}{i}").as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
        let mut values = Vec::new();
        for _ in 0..300 {
            let record = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
            values.push(String::from_utf8(record.value.to_vec()).unwrap());
        }
        values
    }
    async fn stream_partitions(fluvio: &Fluvio) -> u32 {
        fluvio.admin().list_partitions(Some("shared")).await.unwrap().len() as u32
    }
    let (va, vb) =
        tokio::join!(tokio::spawn(round_trip(fa.clone(), "a-", 1)), tokio::spawn(round_trip(fb.clone(), "b-", 2)));
    let (va, vb) = (va.unwrap(), vb.unwrap());
    let expected = |prefix: &str| (0..300).map(|i| format!("{prefix}{i}")).collect::<BTreeSet<_>>();
    assert_eq!(va.into_iter().collect::<BTreeSet<_>>(), expected("a-"));
    assert_eq!(vb.into_iter().collect::<BTreeSet<_>>(), expected("b-"));

    // Nothing more arrived on either side.
    for (fluvio, count) in [(&fa, 300), (&fb, 300)] {
        let mut total = 0;
        for p in fluvio.admin().list_partitions(Some("shared")).await.unwrap() {
            let (_, index) = sc::partition::split_partition_name(&p.name).unwrap();
            let (start, end) = fluvio.partition_consumer("shared", index).offsets().await.unwrap();
            total += end - start;
        }
        assert_eq!(total, count);
    }

    // Closing one client leaves the other working.
    fa.close().await;
    assert_kind(fa.admin().list_topics().await, ErrorKind::Closed);
    assert_eq!(fb.admin().list_topics().await.unwrap().len(), 2);
    fb.close().await;
    a.shutdown().await;
    b.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

/// Every way of naming a topic that does not exist fails with TopicNotFound, at once.
async fn assert_missing_topic_everywhere(fluvio: &Fluvio, name: &str) {
    let checks: Vec<(&str, fluvio_engine::Result<()>, Duration)> = vec![
        {
            let started = Instant::now();
            ("producer", fluvio.topic_producer(name).await.map(drop), started.elapsed())
        },
        {
            let started = Instant::now();
            (
                "partition stream",
                fluvio.partition_consumer(name, 0).stream(Offset::beginning()).await.map(drop),
                started.elapsed(),
            )
        },
        {
            let started = Instant::now();
            ("topic stream", fluvio.consumer(name).stream(Offset::end()).await.map(drop), started.elapsed())
        },
        {
            let started = Instant::now();
            (
                "fetch",
                fluvio.partition_consumer(name, 0).fetch(Offset::beginning(), Default::default()).await.map(drop),
                started.elapsed(),
            )
        },
        {
            let started = Instant::now();
            ("offsets", fluvio.partition_consumer(name, 0).offsets().await.map(drop), started.elapsed())
        },
        {
            let started = Instant::now();
            ("admin topic", fluvio.admin().topic(name).await.map(drop), started.elapsed())
        },
        {
            let started = Instant::now();
            ("admin partitions", fluvio.admin().list_partitions(Some(name)).await.map(drop), started.elapsed())
        },
    ];
    for (what, result, elapsed) in checks {
        let err = result.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::TopicNotFound, "{what}: {err:?}");
        assert!(!err.is_retriable(), "{what}");
        assert!(elapsed < PROMPT, "{what}: answered after {elapsed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_reported_at_once_even_on_an_empty_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    // Right after connecting (the watches may not have delivered anything yet).
    let fluvio = connect(&cluster).await;
    assert_missing_topic_everywhere(&fluvio, "nothing-here").await;
    assert!(fluvio.admin().list_topics().await.unwrap().is_empty());
    assert_missing_topic_everywhere(&fluvio, "nothing-here").await;

    // With other topics around.
    topic(&fluvio, "present", 2).await;
    assert_missing_topic_everywhere(&fluvio, "absent").await;
    // A partition beyond an existing topic's count.
    for result in [
        fluvio.partition_consumer("present", 2).stream(Offset::beginning()).await.map(drop),
        fluvio.partition_consumer("present", 7).offsets().await.map(drop),
    ] {
        let err = assert_kind(result, ErrorKind::PartitionNotFound);
        assert!(!err.is_retriable());
    }
    // A fresh client on a cluster with topics.
    let fresh = connect(&cluster).await;
    assert_missing_topic_everywhere(&fresh, "absent").await;
    fresh.close().await;
    fluvio.close().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_the_watch_has_not_delivered_yet_is_found_by_asking_the_sc() {
    let s = setup(1).await;
    let proxy = WatchHoldingProxy::start(s.cluster.sc_addr()).await;
    let fluvio = Fluvio::connect_with_config(
        ClientConfig::new(proxy.endpoint())
            .with_connect_timeout(Duration::from_secs(5))
            .with_request_timeout(Duration::from_secs(10)),
    )
    .await
    .unwrap();
    // The caches are synced (and know of no topic); then the client's watches stall.
    assert_kind(fluvio.topic_producer("late").await, ErrorKind::TopicNotFound);
    proxy.hold();
    topic(&s.fluvio, "late", 1).await;

    // The topic is found at once, though the watch has not told the client about it.
    let started = Instant::now();
    let producer = fluvio.topic_producer("late").await.expect("found through a direct lookup");
    assert!(started.elapsed() < PROMPT, "found after {:?}", started.elapsed());
    assert_eq!(fluvio.admin().list_topics().await.unwrap().len(), 1, "other requests pass the proxy");
    // Still unknown topics are still reported missing at once.
    let started = Instant::now();
    assert_kind(fluvio.topic_producer("still-missing").await, ErrorKind::TopicNotFound);
    assert!(started.elapsed() < PROMPT);

    // Delivery completes (at the latest once the watch catches up).
    let output = producer.send(None, b"v").await.unwrap();
    let flushing = tokio::spawn({
        let producer = producer.clone();
        async move { producer.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.release();
    tokio::time::timeout(Duration::from_secs(10), flushing).await.unwrap().unwrap().unwrap();
    assert_eq!(output.wait().await.unwrap().offset, 0);
    fluvio.close().await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_created_by_another_client_is_usable_at_once() {
    let s = setup(2).await;
    let creator = connect(&s.cluster).await;
    // The client warms its caches first, so it has to notice topics that appear later.
    assert_kind(s.fluvio.topic_producer("other-0").await, ErrorKind::TopicNotFound);
    for i in 0..10 {
        let name = format!("other-{i}");
        creator.admin().create_topic(&name, &TopicConfig::new(2, 1)).await.unwrap();
        let started = Instant::now();
        let producer = s.fluvio.topic_producer(&name).await.expect("visible right after creation");
        assert!(started.elapsed() < PROMPT);
        let outputs = vec![
            producer.send_to(Some(0), None, b"p0").await.unwrap(),
            producer.send_to(Some(1), None, b"p1").await.unwrap(),
        ];
        producer.flush().await.unwrap();
        for output in outputs {
            assert_eq!(output.wait().await.unwrap().offset, 0);
        }
        let mut stream = s.fluvio.partition_consumer(&name, 1).stream(Offset::beginning()).await.unwrap();
        assert_eq!(&stream.next().await.unwrap().unwrap().value[..], b"p1");
    }
    // A topic another client deletes disappears from this client too.
    creator.admin().delete_topic("other-0").await.unwrap();
    eventually(Duration::from_secs(10), "the deletion reaches the client", || async {
        s.fluvio.topic_producer("other-0").await.err().filter(|e| e.kind() == ErrorKind::TopicNotFound)
    })
    .await;
    creator.close().await;
    s.shutdown().await;
}
