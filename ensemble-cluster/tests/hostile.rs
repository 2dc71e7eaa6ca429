//! A peer that passes the handshake and then sends garbage: its connection is closed (with
//! a logged reason), before the node allocates what a frame claims; the node carries on.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ensemble_cluster::DevCa;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

type Stream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A TLS connection to `to` with a certificate naming `cert_name`, saying hello as
/// `name`; `None` if the node refuses it (no hello comes back).
async fn try_connect(
    ca: &DevCa,
    cert_name: &str,
    name: &str,
    to: &ensemble_cluster::Node,
) -> Option<Stream> {
    let (cert, key) = ca.issue(cert_name).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
    )
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(to.address()).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(to.name().to_string()).unwrap(), tcp)
        .await
        .unwrap();
    // Our hello: version 1, kind 1, incarnation, name.
    let mut hello = vec![1u8, 1];
    hello.extend_from_slice(&7u64.to_le_bytes());
    hello.push(name.len() as u8);
    hello.extend_from_slice(name.as_bytes());
    let mut frame = (hello.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&hello);
    tls.write_all(&frame).await.unwrap();
    // Its hello back, unless it refuses us.
    let mut len = [0u8; 4];
    tokio::time::timeout(WAIT, tls.read_exact(&mut len))
        .await
        .ok()?
        .ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    tls.read_exact(&mut body).await.ok()?;
    assert_eq!(&body[..2], &[1, 1], "a hello");
    Some(tls)
}

async fn connect_as(ca: &DevCa, name: &str, to: &ensemble_cluster::Node) -> Stream {
    try_connect(ca, name, name, to).await.expect("accepted")
}

/// Reads until the node closes the connection.
async fn closed_by_node(tls: &mut Stream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(WAIT, tls.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_frames_close_the_connection_and_nothing_else() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;

    // A frame claiming 4 GiB: refused on its length alone.
    let mut tls = connect_as(&ca, "node-x", &a).await;
    tls.write_all(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3])
        .await
        .unwrap();
    assert!(
        closed_by_node(&mut tls).await,
        "oversized frame closes the connection"
    );

    // A well-sized frame that is not an envelope.
    let mut tls = connect_as(&ca, "node-y", &a).await;
    tls.write_all(&[0, 0, 0, 3, 9, 9, 9]).await.unwrap();
    assert!(
        closed_by_node(&mut tls).await,
        "garbage closes the connection"
    );

    // A certificate for one node claiming to be another: refused at its hello.
    assert!(try_connect(&ca, "node-z", "node-b", &a).await.is_none());

    // The node is fine: another node still joins and calls across.
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    remote.cast(CounterMsg::Add(3)).unwrap();
    assert_eq!(remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap(), 3);
    b.shutdown().await;
    a.shutdown().await;
}
