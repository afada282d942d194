//! TLS on the cluster's public listeners, seen from raw rustls clients: the SC and every SPU
//! serve TLS under the names clients verify, handshakes never hold up the accept loop, a
//! plain-text client is answered with an alert, settings are checked at start, and the
//! `fluvio-local start --tls` command writes a verified profile.

// The certificate helpers of the engine's TLS tests (made at test time with rcgen).
#[path = "../../fluvio-engine/tests/pki/mod.rs"]
mod pki;

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use fluvio_local::{ClusterConfig, ClusterError, FIRST_SPU_ID, LocalCluster, ServerTls};
use fluvio_profile::{TlsPolicy, TlsSource};
use fluvio_wire::api::{ApiVersionsRequest, ApiVersionsResponse, RequestHeader, encode_request_frame};
use fluvio_wire::{Decoder, FrameDecoder, Request};
use pki::{CertKey, DOMAIN, Pki};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn client_config(ca_pem: &str, client: Option<&CertKey>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match client {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let chain = CertificateDer::pem_slice_iter(client.cert.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
            builder.with_client_auth_cert(chain, PrivateKeyDer::from_pem_slice(client.key.as_bytes()).unwrap()).unwrap()
        }
    })
}

async fn tls_connect(
    addr: impl tokio::net::ToSocketAddrs,
    config: Arc<rustls::ClientConfig>,
    server_name: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    tokio_rustls::TlsConnector::from(config).connect(name, tcp).await
}

/// Sends ApiVersions and reads its answer.
async fn api_versions<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<ApiVersionsResponse> {
    let header = RequestHeader {
        api_key: ApiVersionsRequest::API_KEY,
        api_version: ApiVersionsRequest::MAX_VERSION,
        correlation_id: 1,
        client_id: "tls-test".into(),
    };
    let request =
        ApiVersionsRequest { client_version: "0.50.1".into(), client_os: "linux".into(), client_arch: "x86_64".into() };
    let mut frame = BytesMut::new();
    encode_request_frame(&header, &request, &mut frame).unwrap();
    stream.write_all(&frame).await?;
    let decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    loop {
        if let Some(mut frame) = decoder.decode(&mut buf).unwrap() {
            let correlation_id = fluvio_wire::api::take_correlation_id(&mut frame).unwrap();
            assert_eq!(correlation_id, 1);
            return Ok(ApiVersionsResponse::decode_exact(frame, ApiVersionsRequest::MAX_VERSION).unwrap());
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
}

async fn tls_cluster(spus: u16, tls: ServerTls) -> (LocalCluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(spus).tls(tls)).await.expect("starts");
    (cluster, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sc_and_every_spu_serve_tls_under_their_names() {
    let pki = Pki::new("test CA");
    let (cluster, _dir) = tls_cluster(2, pki.server_tls(&pki.server()).domain(DOMAIN)).await;
    let config = client_config(&pki.ca_pem, None);

    let mut sc = tls_connect(cluster.sc_addr(), config.clone(), DOMAIN).await.expect("SC handshake");
    assert!(!api_versions(&mut sc).await.unwrap().api_keys.is_empty());
    let spus = cluster.spu_addrs();
    assert_eq!(spus.len(), 2);
    for (id, addr) in spus {
        let name = format!("custom-spu-{id}.{DOMAIN}");
        let mut spu = tls_connect(addr, config.clone(), &name).await.expect("SPU handshake");
        assert!(!api_versions(&mut spu).await.unwrap().api_keys.is_empty());
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peers_neither_block_the_accept_loop_nor_stay_connected() {
    let pki = Pki::new("test CA");
    // Long enough that a client served only after the silent peers time out is told apart
    // from one served at once, even on a loaded machine.
    let timeout = Duration::from_secs(3);
    let (cluster, _dir) = tls_cluster(1, pki.server_tls(&pki.server()).handshake_timeout(timeout)).await;
    let spu = cluster.spu_addrs()[0].1;

    // Peers that connect and never start a handshake, on the SC and on the SPU.
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(cluster.sc_addr()).await.unwrap());
        silent.push(TcpStream::connect(spu).await.unwrap());
    }
    let started = Instant::now();
    let config = client_config(&pki.ca_pem, None);
    let mut sc = tls_connect(cluster.sc_addr(), config.clone(), DOMAIN).await.expect("served meanwhile");
    api_versions(&mut sc).await.unwrap();
    let name = format!("custom-spu-{FIRST_SPU_ID}.{DOMAIN}");
    let mut spu_client = tls_connect(spu, config, &name).await.expect("served meanwhile");
    api_versions(&mut spu_client).await.unwrap();
    assert!(started.elapsed() < timeout, "a waiting handshake held up others: {:?}", started.elapsed());

    // Each silent peer is disconnected once the handshake timeout passes.
    for mut peer in silent {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(WAIT, peer.read(&mut byte)).await.expect("disconnected in time");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    assert!(started.elapsed() < timeout + Duration::from_secs(5));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_request_is_answered_with_a_tls_alert() {
    let pki = Pki::new("test CA");
    let (cluster, _dir) = tls_cluster(1, pki.server_tls(&pki.server())).await;
    for addr in [cluster.sc_addr(), cluster.spu_addrs()[0].1] {
        let started = Instant::now();
        let mut plain = TcpStream::connect(addr).await.unwrap();
        let header = RequestHeader {
            api_key: ApiVersionsRequest::API_KEY,
            api_version: 0,
            correlation_id: 1,
            client_id: "x".into(),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, &ApiVersionsRequest::default(), &mut frame).unwrap();
        plain.write_all(&frame).await.unwrap();
        // What comes back is a TLS alert record, then the end of the connection, at once.
        let mut answer = Vec::new();
        tokio::time::timeout(WAIT, plain.read_to_end(&mut answer)).await.expect("closed in time").unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
        assert!(answer.starts_with(&[21, 3]), "a TLS alert record: {answer:02x?}");
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_certificate_from_the_client_ca() {
    let pki = Pki::new("test CA");
    let (cluster, _dir) = tls_cluster(1, pki.mutual_server_tls(&pki.server())).await;

    let mut good =
        tls_connect(cluster.sc_addr(), client_config(&pki.ca_pem, Some(&pki.client())), DOMAIN).await.unwrap();
    api_versions(&mut good).await.expect("served");

    // Without a certificate (TLS 1.3: the refusal arrives after the client's handshake ends).
    let refused = async {
        let mut stream = tls_connect(cluster.sc_addr(), client_config(&pki.ca_pem, None), DOMAIN).await?;
        api_versions(&mut stream).await
    };
    let err = tokio::time::timeout(WAIT, refused).await.unwrap().expect_err("refused");
    let alert = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).cloned();
    assert_eq!(alert, Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)), "{err:?}");

    // Optional client certificates: served without one too.
    let (optional, _dir2) = tls_cluster(1, pki.server_tls(&pki.server()).client_ca(&pki.ca_pem)).await;
    let mut anonymous = tls_connect(optional.sc_addr(), client_config(&pki.ca_pem, None), DOMAIN).await.unwrap();
    api_versions(&mut anonymous).await.expect("served without a client certificate");
    cluster.shutdown().await;
    optional.shutdown().await;
}

#[tokio::test]
async fn bad_tls_settings_refuse_to_start() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let other = pki.server();
    let start = |tls: ServerTls| async move {
        let dir = tempfile::tempdir().unwrap();
        LocalCluster::start(ClusterConfig::new(dir.path()).tls(tls)).await.map(|_| ()).unwrap_err()
    };
    let cases = [
        ("not PEM", ServerTls::new("nonsense", &server.key)),
        ("no key", ServerTls::new(&server.cert, "nonsense")),
        ("mismatched key", ServerTls::new(&server.cert, &other.key)),
        ("required, no CA", pki.server_tls(&server).require_client_cert(true)),
        ("wrong names", pki.server_tls(&pki.server_for(&["elsewhere.test"])).domain(DOMAIN)),
    ];
    for (case, tls) in cases {
        let err = start(tls).await;
        assert!(matches!(err, ClusterError::InvalidConfig(_)), "{case}: {err:?}");
    }
    let missing = ServerTls::from_files(pki.dir.path().join("none.pem"), pki.dir.path().join("none.key"));
    assert!(matches!(missing, Err(ClusterError::InvalidConfig(_))));
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fluvio_local(args: &[OsString], profile: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fluvio-local"));
    command.arg("start").args(args).env("FLV_PROFILE_PATH", profile).env("RUST_LOG", "warn");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_serves_tls_and_writes_a_verified_profile() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let client = pki.client();
    let files = [
        pki.write("server.pem", &server.cert),
        pki.write("server.key", &server.key),
        pki.write("ca.pem", &pki.ca_pem),
        pki.write("client.pem", &client.cert),
        pki.write("client.key", &client.key),
    ];
    let data = pki.dir.path().join("data");
    let profile = pki.dir.path().join("profiles").join("config");
    let args: Vec<OsString> = vec![
        "--base-dir".into(),
        data.clone().into(),
        "--spus".into(),
        "2".into(),
        "--profile".into(),
        "secure".into(),
        "--tls".into(),
        "--server-cert".into(),
        files[0].clone().into(),
        "--server-key".into(),
        files[1].clone().into(),
        "--domain".into(),
        DOMAIN.into(),
        "--ca-cert".into(),
        files[2].clone().into(),
        "--require-client-cert".into(),
        "--client-cert".into(),
        files[3].clone().into(),
        "--client-key".into(),
        files[4].clone().into(),
    ];
    let mut child = fluvio_local(&args, &profile).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut running = Running(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let sc = first.trim().strip_prefix("SC ").unwrap_or_else(|| panic!("{first:?}")).to_string();

    let current = fluvio_profile::ProfileFile::load(&profile).unwrap().current().unwrap();
    assert_eq!(current.endpoint, sc);
    let TlsPolicy::Verified(TlsSource::Files(certs)) = &current.tls else { panic!("{:?}", current.tls) };
    assert_eq!(certs.domain, DOMAIN);
    assert_eq!(certs.ca_cert.as_deref(), Some(files[2].canonicalize().unwrap().to_str().unwrap()));
    assert_eq!(certs.cert.as_deref(), Some(files[3].canonicalize().unwrap().to_str().unwrap()));
    assert_eq!(certs.key.as_deref(), Some(files[4].canonicalize().unwrap().to_str().unwrap()));

    // What the profile names is what the cluster accepts.
    let ca = std::fs::read_to_string(certs.ca_cert.as_deref().unwrap()).unwrap();
    let client_files = CertKey {
        cert: std::fs::read_to_string(certs.cert.as_deref().unwrap()).unwrap(),
        key: std::fs::read_to_string(certs.key.as_deref().unwrap()).unwrap(),
    };
    let mut stream = tls_connect(sc.as_str(), client_config(&ca, Some(&client_files)), &certs.domain).await.unwrap();
    api_versions(&mut stream).await.expect("served");

    let status = Command::new("kill").args(["-TERM", &running.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(running.0.wait().unwrap().success(), "clean exit on SIGTERM");
}

#[test]
fn command_refuses_incomplete_tls_settings() {
    let pki = Pki::new("test CA");
    let server = pki.server();
    let cert = pki.write("server.pem", &server.cert);
    let key = pki.write("server.key", &server.key);
    let profile = pki.dir.path().join("config");
    let base = pki.dir.path().join("data");
    let common: Vec<OsString> = vec![
        "--base-dir".into(),
        base.clone().into(),
        "--tls".into(),
        "--server-cert".into(),
        cert.clone().into(),
        "--server-key".into(),
        key.clone().into(),
    ];
    // A profile without a CA or client certificate would not be readable by the official client.
    let mut args = common.clone();
    args.extend(["--profile".into(), "p".into(), "--domain".into(), DOMAIN.into()]);
    let output = fluvio_local(&args, &profile).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ca-cert"), "{output:?}");
    assert!(!profile.exists(), "nothing written");

    // Requiring client certificates needs the CA that signs them.
    let mut args = common.clone();
    args.push("--require-client-cert".into());
    let output = fluvio_local(&args, &profile).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ca-cert"), "{output:?}");

    // TLS without a certificate.
    let output = fluvio_local(&["--base-dir".into(), base.clone().into(), "--tls".into()], &profile).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--server-cert"), "{output:?}");
}
