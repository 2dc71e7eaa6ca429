//! The ractor_cluster side: the same sink, joined to a process group on the server node
//! (ractor_cluster finds remote actors through groups); TLS with the same certificates
//! (server authentication: ractor_cluster does not check client certificates).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::{NodeEventSubscription, NodeServer, NodeServerMessage, RactorClusterMessage};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::{Measured, Server};

#[derive(RactorClusterMessage)]
pub(crate) enum SinkMsg {
    Data(Vec<u8>),
    #[rpc]
    Echo(u64, RpcReplyPort<u64>),
    #[rpc]
    Count(RpcReplyPort<u64>),
}

struct Sink;

impl Actor for Sink {
    type Msg = SinkMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, myself: ActorRef<SinkMsg>, _: ()) -> Result<u64, ActorProcessingErr> {
        ractor::pg::join("bench".to_string(), vec![myself.get_cell()]);
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<SinkMsg>,
        msg: SinkMsg,
        seen: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SinkMsg::Data(_) => *seen += 1,
            SinkMsg::Echo(n, reply) => {
                let _ = reply.send(n);
            }
            SinkMsg::Count(reply) => {
                let _ = reply.send(*seen);
            }
        }
        Ok(())
    }
}

const COOKIE: &str = "cluster benchmark cookie";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(crate) async fn serve(dir: &Path) {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("bench-server.pem"))
            .and_then(|i| i.collect())
            .unwrap_or_else(|e| panic!("server certificate: {e}"));
    let key = PrivateKeyDer::from_pem_file(dir.join("bench-server.key"))
        .unwrap_or_else(|e| panic!("server key: {e}"));
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("TLS: {e}"));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let port = free_port();
    let server = NodeServer::new(
        port,
        COOKIE.to_string(),
        "bench-server".to_string(),
        "localhost".to_string(),
        Some(ractor_cluster::IncomingEncryptionMode::Tls(acceptor)),
        None,
    );
    let (_node, _) = Actor::spawn(None, server, ())
        .await
        .unwrap_or_else(|e| panic!("node server: {e}"));
    let (_sink, _) = Actor::spawn(None, Sink, ())
        .await
        .unwrap_or_else(|e| panic!("sink: {e}"));
    println!("ready {port}");
    std::future::pending::<()>().await;
}

struct Down(tokio::sync::mpsc::UnboundedSender<()>);

impl NodeEventSubscription for Down {
    fn node_session_opened(&self, _: ractor_cluster::node::NodeServerSessionInformation) {}
    fn node_session_disconnected(&self, _: ractor_cluster::node::NodeServerSessionInformation) {
        let _ = self.0.send(());
    }
    fn node_session_authenticated(&self, _: ractor_cluster::node::NodeServerSessionInformation) {}
}

pub(crate) async fn client(scenario: &str, n: u64, size: usize, dir: &Path) -> Option<Measured> {
    crate::ensemble_side::certificates(dir);
    let mut server = Server::start("ractor", dir);
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for ca in
            CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap_or_else(|e| panic!("CA: {e}"))
        {
            roots
                .add(ca.unwrap_or_else(|e| panic!("CA: {e}")))
                .unwrap_or_else(|e| panic!("CA: {e}"));
        }
        roots
    };
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap_or_else(|e| panic!("TLS: {e}"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let node_server = NodeServer::new(
        free_port(),
        COOKIE.to_string(),
        "bench-client".to_string(),
        "localhost".to_string(),
        None,
        None,
    );
    let (node, _) = Actor::spawn(None, node_server, ())
        .await
        .unwrap_or_else(|e| panic!("node server: {e}"));
    let (down_tx, mut down_rx) = tokio::sync::mpsc::unbounded_channel();
    node.cast(NodeServerMessage::SubscribeToEvents {
        id: "bench".into(),
        subscription: Box::new(Down(down_tx)),
    })
    .unwrap_or_else(|e| panic!("subscribe: {e}"));
    let name = ServerName::try_from("bench-server").unwrap_or_else(|e| panic!("name: {e}"));
    ractor_cluster::client_connect_enc(
        &node,
        format!("127.0.0.1:{}", server.port),
        connector,
        name,
    )
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let sink: ActorRef<SinkMsg> = loop {
        let remote = ractor::pg::get_members(&"bench".to_string())
            .into_iter()
            .find(|c| !c.get_id().is_local());
        if let Some(cell) = remote {
            break cell.into();
        }
        assert!(Instant::now() < deadline, "the sink never appeared");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let timeout = Some(Duration::from_secs(10));
    let echo = move |sink: ActorRef<SinkMsg>, i: u64| async move {
        match sink.call(|r| SinkMsg::Echo(i, r), timeout).await {
            Ok(ractor::rpc::CallResult::Success(v)) => v,
            other => panic!("call: {other:?}"),
        }
    };
    let measured = match scenario {
        "remote-call" => {
            let driver = tokio::spawn(async move {
                for i in 0..1_000 {
                    echo(sink.clone(), i).await;
                }
                let mut lat = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let t = Instant::now();
                    assert_eq!(echo(sink.clone(), i).await, i);
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
                lat
            });
            Measured::Latency(driver.await.unwrap_or_else(|e| panic!("driver: {e}")))
        }
        "detect" => {
            echo(sink.clone(), 1).await;
            server.kill();
            let t = Instant::now();
            match tokio::time::timeout(Duration::from_secs(30), down_rx.recv()).await {
                Ok(Some(())) => {}
                _ => panic!("no disconnect within 30 s"),
            }
            Measured::Detect(t.elapsed().as_secs_f64())
        }
        _ => {
            let payload = vec![7u8; size];
            let driver = tokio::spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    sink.cast(SinkMsg::Data(payload.clone()))
                        .unwrap_or_else(|e| panic!("cast: {e}"));
                }
                let seen = match sink
                    .call(SinkMsg::Count, Some(Duration::from_secs(60)))
                    .await
                {
                    Ok(ractor::rpc::CallResult::Success(v)) => v,
                    other => panic!("count: {other:?}"),
                };
                assert_eq!(seen, n, "every cast arrived");
                t.elapsed().as_secs_f64()
            });
            let secs = driver.await.unwrap_or_else(|e| panic!("driver: {e}"));
            Measured::Rate {
                msgs: n as f64 / secs,
                bytes: (n as f64 * size as f64) / secs,
            }
        }
    };
    drop(server);
    Some(measured)
}
