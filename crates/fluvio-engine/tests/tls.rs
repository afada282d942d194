//! TLS and mutual TLS between the engine and `fluvio-local`, over real sockets on ports chosen
//! by the OS, with certificates made at test time: round trips (connect, create a topic,
//! produce, consume) for every policy, every refusal with its typed failure and within the
//! connect timeout, plain and TLS clients side by side, and profiles carrying TLS settings.

mod common;
mod pki;
mod support;

use std::time::{Duration, Instant};

use common::{next_records, values};
use fluvio_engine::config::{ClientTls, Pem, VerifiedTls};
use fluvio_engine::{ClientConfig, ErrorKind, Fluvio, Offset, ProducerConfig, TlsFailure, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster, ServerTls};
use fluvio_profile::{ProfileFile, TlsPolicy};
use pki::{CertKey, DOMAIN, Pki};
use support::{Behavior, FakeServer};

/// The connect timeout of every client here: each refusal must come before it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

struct TlsCluster {
    cluster: LocalCluster,
    _dir: tempfile::TempDir,
}

async fn cluster(spus: u16, tls: Option<ServerTls>) -> TlsCluster {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ClusterConfig::new(dir.path()).spus(spus);
    if let Some(tls) = tls {
        config = config.tls(tls);
    }
    TlsCluster { cluster: LocalCluster::start(config).await.expect("cluster starts"), _dir: dir }
}

fn config(cluster: &LocalCluster, tls: impl Into<ClientTls>) -> ClientConfig {
    ClientConfig::new(cluster.sc_endpoint())
        .with_tls(tls)
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_request_timeout(Duration::from_secs(10))
}

/// Creates `topic` with `partitions` partitions, produces `per_partition` records to each and
/// consumes them back, over whatever transport `fluvio` uses.
async fn round_trip(fluvio: &Fluvio, topic: &str, partitions: u32, per_partition: u32) {
    fluvio.admin().create_topic(topic, &TopicConfig::new(partitions, 1)).await.expect("topic created");
    let producer = fluvio
        .topic_producer_with_config(topic, ProducerConfig::builder().linger(Duration::ZERO).build().unwrap())
        .await
        .expect("producer");
    for partition in 0..partitions {
        for i in 0..per_partition {
            producer.send_to(Some(partition), None, format!("{topic}-{partition}-{i}").as_bytes()).await.unwrap();
        }
    }
    producer.flush().await.expect("flushed");
    for partition in 0..partitions {
        let mut stream = fluvio.partition_consumer(topic, partition).stream(Offset::beginning()).await.unwrap();
        let records = next_records(&mut stream, per_partition as usize).await;
        let expected: Vec<String> = (0..per_partition).map(|i| format!("{topic}-{partition}-{i}")).collect();
        assert_eq!(values(&records), expected);
        assert_eq!(records.last().unwrap().offset, i64::from(per_partition) - 1);
    }
}

/// Asserts that `attempt` fails as a TLS `failure` (an `ErrorKind::Tls` error) before the
/// connect timeout.
async fn assert_refused<T: std::fmt::Debug>(
    attempt: impl std::future::Future<Output = fluvio_engine::Result<T>>,
    failure: TlsFailure,
) -> fluvio_engine::Error {
    let started = Instant::now();
    let err = attempt.await.expect_err("the connection must be refused");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    assert_eq!(err.tls_failure(), Some(failure), "{err:?}");
    assert!(!err.is_retriable(), "a TLS refusal is not retriable: {err:?}");
    assert!(elapsed < CONNECT_TIMEOUT, "refused after {elapsed:?}, not within the connect timeout");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_tls_round_trip_on_sc_and_every_spu() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let tls = cluster(2, Some(pki.server_tls(&server).domain(DOMAIN))).await;
    let fluvio =
        Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, None))).await.expect("connects");
    // Two partitions on two SPUs: each SPU is verified under its own name.
    round_trip(&fluvio, "verified", 2, 50).await;
    let spus = fluvio.admin().list_spus().await.unwrap();
    assert_eq!(spus.len(), 2);
    fluvio.close().await;
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_round_trip_with_files() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let client = pki.client();
    let tls = cluster(2, Some(pki.mutual_server_tls(&server))).await;
    let fluvio = Fluvio::connect_with_config(config(&tls.cluster, pki.verified_files(DOMAIN, Some(&client))))
        .await
        .expect("connects");
    round_trip(&fluvio, "mutual", 2, 50).await;
    fluvio.close().await;
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_files_and_text_can_be_mixed() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let client = pki.client();
    // The cluster's certificate from a file, its key and client CA as text.
    let server_tls = ServerTls::new(Pem::File(pki.write("server.pem", &server.cert)), &server.key)
        .client_ca(&pki.ca_pem)
        .require_client_cert(true);
    let tls = cluster(1, Some(server_tls)).await;
    // The client's CA and key from files, its certificate as text.
    let mixed = VerifiedTls {
        domain: DOMAIN.into(),
        ca_cert: Some(Pem::File(pki.write("ca.pem", &pki.ca_pem))),
        cert: Some(Pem::Inline(client.cert.clone())),
        key: Some(Pem::File(pki.write("client.key", &client.key))),
    };
    assert_eq!(ClientTls::Verified(mixed.clone()).to_profile(), None, "a profile cannot keep mixed sources");
    let fluvio =
        Fluvio::connect_with_config(config(&tls.cluster, ClientTls::Verified(mixed.clone()))).await.expect("connects");
    round_trip(&fluvio, "mixed", 1, 10).await;
    fluvio.close().await;
    // A file that cannot be read is a configuration error when connecting.
    let unreadable = VerifiedTls { key: Some(Pem::File(pki.dir.path().join("no-such.key"))), ..mixed };
    let err = Fluvio::connect_with_config(config(&tls.cluster, ClientTls::Verified(unreadable))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err:?}");
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_tls_encrypts_without_verifying() {
    // A certificate from a CA nobody trusts, for names nobody asks for: accepted all the same.
    let pki = Pki::new("unknown CA");
    let server = pki.server_for(&["somewhere.else"]);
    let tls = cluster(1, Some(pki.server_tls(&server))).await;
    let fluvio =
        Fluvio::connect_with_config(config(&tls.cluster, TlsPolicy::AnonymousInsecure)).await.expect("connects");
    round_trip(&fluvio, "anonymous", 1, 20).await;
    fluvio.close().await;
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_certificate_problems_are_typed_refusals() {
    let pki = Pki::new("test CA");
    let good = cluster(1, Some(pki.server_tls(&pki.server()))).await;

    // The client trusts another CA.
    let other = Pki::new("other CA");
    assert_refused(
        Fluvio::connect_with_config(config(&good.cluster, other.verified_inline(DOMAIN, None))),
        TlsFailure::UnknownIssuer,
    )
    .await;

    // The client expects another name.
    assert_refused(
        Fluvio::connect_with_config(config(&good.cluster, pki.verified_inline("elsewhere.test", None))),
        TlsFailure::NameMismatch,
    )
    .await;

    // The certificate expired.
    let expired = cluster(1, Some(pki.server_tls(&pki.expired_server()))).await;
    assert_refused(
        Fluvio::connect_with_config(config(&expired.cluster, pki.verified_inline(DOMAIN, None))),
        TlsFailure::Expired,
    )
    .await;

    good.cluster.shutdown().await;
    expired.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spus_are_verified_as_spu_name_dot_domain() {
    // A certificate for the domain only, without `*.DOMAIN`: the SC is fine, an SPU is not.
    let pki = Pki::new("test CA");
    let tls = cluster(1, Some(pki.server_tls(&pki.server_for(&[DOMAIN])))).await;
    let fluvio = Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, None)))
        .await
        .expect("SC accepted");
    fluvio.admin().create_topic("names", &TopicConfig::new(1, 1)).await.unwrap();
    let err =
        assert_refused(async { fluvio.partition_consumer("names", 0).offsets().await }, TlsFailure::NameMismatch).await;
    assert!(err.to_string().contains(&format!("custom-spu-5001.{DOMAIN}")), "{err}");
    fluvio.close().await;
    tls.cluster.shutdown().await;

    // And the cluster refuses to start with such a certificate when told the domain.
    let dir = tempfile::tempdir().unwrap();
    let refused = LocalCluster::start(
        ClusterConfig::new(dir.path()).tls(pki.server_tls(&pki.server_for(&[DOMAIN])).domain(DOMAIN)),
    )
    .await;
    assert!(matches!(refused, Err(fluvio_local::ClusterError::InvalidConfig(_))), "{:?}", refused.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_problems_are_typed_refusals() {
    let pki = Pki::new("test CA");
    let tls = cluster(1, Some(pki.mutual_server_tls(&pki.server()))).await;

    // No client certificate.
    assert_refused(
        Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, None))),
        TlsFailure::ClientCertificateRequired,
    )
    .await;

    // A client certificate from a CA the server does not trust.
    let other = Pki::new("other CA");
    let stranger: CertKey = other.client();
    assert_refused(
        Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, Some(&stranger)))),
        TlsFailure::ClientCertificateRejected,
    )
    .await;

    // The right one still works.
    let fluvio = Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, Some(&pki.client()))))
        .await
        .expect("connects");
    fluvio.close().await;
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_mismatches_fail_fast() {
    let pki = Pki::new("test CA");
    let tls = cluster(1, Some(pki.server_tls(&pki.server()))).await;
    let plain = cluster(1, None).await;

    // Plain client, TLS server: the server's alert is recognised.
    assert_refused(
        Fluvio::connect_with_config(config(&tls.cluster, TlsPolicy::Disabled)),
        TlsFailure::ServerRequiresTls,
    )
    .await;

    // TLS client, plain server: as a plain Fluvio server, it reads the ClientHello as the start
    // of a frame and waits for the rest without a word; the handshake timeout tells.
    assert_refused(
        Fluvio::connect_with_config(config(&plain.cluster, pki.verified_inline(DOMAIN, None))),
        TlsFailure::ServerNotTls,
    )
    .await;
    assert_refused(
        Fluvio::connect_with_config(
            config(&plain.cluster, TlsPolicy::AnonymousInsecure).with_tls_handshake_timeout(Duration::from_millis(300)),
        ),
        TlsFailure::ServerNotTls,
    )
    .await;

    tls.cluster.shutdown().await;
    plain.cluster.shutdown().await;
}

/// A server that never answers the handshake (as a plain Fluvio server does) is not a TLS
/// server: `Tls`/`ServerNotTls`, not retriable, after the handshake timeout, which always lies
/// well inside the connect timeout (at most half of it), never a retriable `ConnectTimeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_the_handshake_is_not_tls() {
    let pki = Pki::new("test CA");
    let silent = FakeServer::start(Behavior::Silent).await;
    let tls = || ClientConfig::new(silent.endpoint()).with_tls(pki.verified_inline(DOMAIN, None));
    assert_eq!(tls().tls_handshake_timeout(), fluvio_engine::config::DEFAULT_TLS_HANDSHAKE_TIMEOUT);
    for config in [
        tls().with_tls_handshake_timeout(Duration::from_millis(300)),
        // A connect timeout shorter than the handshake timeout still leaves the handshake's
        // verdict the last word.
        tls().with_connect_timeout(Duration::from_millis(600)),
    ] {
        let err = Fluvio::connect_with_config(config.clone()).await.expect_err("no handshake");
        assert_eq!((err.kind(), err.tls_failure()), (ErrorKind::Tls, Some(TlsFailure::ServerNotTls)), "{err:?}");
        assert!(!err.is_retriable());
    }
    // A plain client meeting the same silence times out as before (retriable).
    let err = Fluvio::connect_with_config(
        ClientConfig::new(silent.endpoint()).with_connect_timeout(Duration::from_millis(300)),
    )
    .await
    .expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::ConnectTimeout, "{err:?}");
    assert!(err.is_retriable());
    // A handshake timeout of zero is refused before any connection.
    let zero = tls().with_tls_handshake_timeout(Duration::ZERO);
    assert_eq!(Fluvio::connect_with_config(zero).await.err().map(|e| e.kind()), Some(ErrorKind::Config));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_mutual_tls_clients_side_by_side() {
    let pki = Pki::new("test CA");
    let tls = cluster(1, Some(pki.mutual_server_tls(&pki.server()))).await;
    let plain = cluster(1, None).await;
    let secure = Fluvio::connect_with_config(config(&tls.cluster, pki.verified_inline(DOMAIN, Some(&pki.client()))))
        .await
        .expect("TLS client connects");
    let open = Fluvio::connect_with_config(config(&plain.cluster, TlsPolicy::Disabled)).await.expect("plain client");

    let (a, b) = tokio::join!(
        tokio::spawn({
            let secure = secure.clone();
            async move { round_trip(&secure, "side-by-side", 1, 300).await }
        }),
        tokio::spawn({
            let open = open.clone();
            async move { round_trip(&open, "side-by-side", 1, 300).await }
        }),
    );
    a.unwrap();
    b.unwrap();
    // Each cluster has only its own topic, and each client still talks to its own cluster.
    assert_eq!(secure.admin().list_topics().await.unwrap().len(), 1);
    assert_eq!(open.admin().list_topics().await.unwrap().len(), 1);
    secure.close().await;
    open.close().await;
    tls.cluster.shutdown().await;
    plain.cluster.shutdown().await;
}

/// Waits until partition 0 of `topic` has `replicas` replicas in sync (the leader and
/// `replicas - 1` in-sync followers, as `lsr` counts them) that all hold `end`.
async fn wait_replicated(fluvio: &Fluvio, topic: &str, replicas: usize, end: i64) {
    let deadline = Instant::now() + common::PATIENCE;
    loop {
        let partitions = fluvio.admin().list_partitions(Some(topic)).await.unwrap();
        let status = &partitions.iter().find(|p| p.name == format!("{topic}-0")).expect("partition listed").status;
        if status.lsr as usize == replicas - 1
            && status.leader.hw == end
            && status.replicas.len() == replicas - 1
            && status.replicas.iter().all(|r| r.leo == end)
        {
            return;
        }
        assert!(Instant::now() < deadline, "not replicated in time: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_stays_plain_behind_tls_listeners() {
    // Clients use TLS; followers replicate from leaders over the SPUs' private endpoints,
    // which stay plain. A restarted SPU serves TLS again and catches up.
    let pki = Pki::new("test CA");
    let tls = cluster(3, Some(pki.mutual_server_tls(&pki.server()).domain(DOMAIN))).await;
    let policy = pki.verified_inline(DOMAIN, Some(&pki.client()));
    let fluvio = Fluvio::connect_with_config(config(&tls.cluster, policy)).await.expect("connects");
    fluvio.admin().create_topic("replicated", &TopicConfig::new(1, 3)).await.expect("topic created");
    let producer = fluvio
        .topic_producer_with_config("replicated", ProducerConfig::builder().linger(Duration::ZERO).build().unwrap())
        .await
        .unwrap();
    for i in 0..100 {
        producer.send(None, format!("r{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    wait_replicated(&fluvio, "replicated", 3, 100).await;
    let mut stream = fluvio.partition_consumer("replicated", 0).stream(Offset::beginning()).await.unwrap();
    assert_eq!(values(&next_records(&mut stream, 100).await), (0..100).map(|i| format!("r{i}")).collect::<Vec<_>>());
    drop(stream);

    let leader = common::leader_of(&fluvio, "replicated", 0).await;
    let follower = tls.cluster.spu_ids().into_iter().find(|id| *id != leader).unwrap();
    tls.cluster.stop_spu(follower).await.unwrap();
    for i in 100..150 {
        producer.send(None, format!("r{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    tls.cluster.start_spu(follower).await.unwrap();
    wait_replicated(&fluvio, "replicated", 3, 150).await;
    // A new topic puts a leader on the restarted SPU (it leads nothing): its listener is TLS.
    round_trip(&fluvio, "after-restart", 3, 20).await;
    let mut leaders = Vec::new();
    for partition in 0..3 {
        leaders.push(common::leader_of(&fluvio, "after-restart", partition).await);
    }
    assert!(leaders.contains(&follower), "the restarted SPU {follower} leads one of {leaders:?}");
    fluvio.close().await;
    tls.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_profiles_round_trip_and_connect() {
    let pki = Pki::new("test CA");
    let client = pki.client();
    let tls = cluster(1, Some(pki.mutual_server_tls(&pki.server()))).await;
    let path = pki.dir.path().join("config");
    let mut file = ProfileFile::load_or_new(&path).unwrap();
    let inline = pki.verified_inline(DOMAIN, Some(&client));
    let files = pki.verified_files(DOMAIN, Some(&client));
    file.upsert("inline", "inline", &tls.cluster.sc_endpoint(), &inline);
    file.upsert("files", "files", &tls.cluster.sc_endpoint(), &files);
    file.set_current_profile("files");
    file.save().unwrap();

    let reread = ProfileFile::load(&path).unwrap();
    assert_eq!(reread.profile("inline").unwrap().tls, inline);
    assert_eq!(reread.profile("files").unwrap().tls, files);

    for name in [Some("inline"), None] {
        let fluvio = Fluvio::connect_with_profile_file(&path, name).await.expect("connects with the profile");
        round_trip(&fluvio, &format!("profile-{}", name.unwrap_or("current")), 1, 10).await;
        fluvio.close().await;
    }
    tls.cluster.shutdown().await;
}

#[tokio::test]
async fn unreadable_certificates_are_config_errors_before_any_connection() {
    let pki = Pki::new("test CA");
    let policy = fluvio_profile::TlsPolicy::Verified(fluvio_profile::TlsSource::Files(fluvio_profile::TlsCerts::new(
        DOMAIN,
        pki.dir.path().join("missing.pem").to_str().unwrap(),
    )));
    // Nothing listens there: a Config error proves the files were read before connecting.
    let err = Fluvio::connect_with_config(ClientConfig::new("127.0.0.1:1").with_tls(policy)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err:?}");
}
