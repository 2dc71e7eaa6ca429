//! Mutual TLS between nodes: TLS 1.3 only, rustls with the ring provider, both sides
//! presenting a certificate from the cluster's CA, each certificate naming its node.
//!
//! A node's name is a DNS name, and its certificate carries it as a subject alternative
//! name. The dialing side checks it as rustls checks any server name; the accepting side
//! checks, after the handshake, that the client's certificate names the node its Hello
//! frame claims to be. A peer with a certificate from another CA, or one that claims
//! another node's name, is refused before a single frame of it is parsed.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::ClusterError;

/// A node's certificates: the cluster's CA, and its own chain and key.
///
/// ```no_run
/// # fn main() -> Result<(), ensemble_cluster::ClusterError> {
/// use ensemble_cluster::TlsConfig;
/// let tls = TlsConfig::from_pem_files("ca.pem", "node-a.pem", "node-a.key")?;
/// # Ok(()) }
/// ```
pub struct TlsConfig {
    ca: Vec<CertificateDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for TlsConfig {
    fn clone(&self) -> Self {
        TlsConfig {
            ca: self.ca.clone(),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_certificates", &self.ca.len())
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Loads the CA certificate(s), this node's certificate chain and its private key
    /// (PKCS#8, PKCS#1 or SEC1) from PEM files.
    pub fn from_pem_files(
        ca: impl AsRef<Path>,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, ClusterError> {
        let read = |what: &str, path: &Path| {
            std::fs::read(path)
                .map_err(|e| ClusterError::Tls(format!("reading {what} {}: {e}", path.display())))
        };
        TlsConfig::from_pem(
            &read("the CA certificate", ca.as_ref())?,
            &read("the node certificate", cert.as_ref())?,
            &read("the node key", key.as_ref())?,
        )
    }

    /// Like [`from_pem_files`](Self::from_pem_files), from PEM text in memory.
    pub fn from_pem(ca: &[u8], cert: &[u8], key: &[u8]) -> Result<TlsConfig, ClusterError> {
        let certs =
            |what: &str, pem: &[u8]| -> Result<Vec<CertificateDer<'static>>, ClusterError> {
                let certs = CertificateDer::pem_slice_iter(pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ClusterError::Tls(format!("{what}: {e}")))?;
                if certs.is_empty() {
                    return Err(ClusterError::Tls(format!(
                        "{what}: no certificate in the PEM"
                    )));
                }
                Ok(certs)
            };
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| ClusterError::Tls(format!("the node key: {e}")))?;
        Ok(TlsConfig {
            ca: certs("the CA certificate", ca)?,
            chain: certs("the node certificate", cert)?,
            key,
        })
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, ClusterError> {
        let mut roots = RootCertStore::empty();
        for ca in &self.ca {
            roots
                .add(ca.clone())
                .map_err(|e| ClusterError::Tls(format!("the CA certificate: {e}")))?;
        }
        Ok(Arc::new(roots))
    }

    /// The rustls configurations for both ends of a connection.
    pub(crate) fn rustls(&self) -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), ClusterError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = |e: rustls::Error| ClusterError::Tls(e.to_string());
        let roots = self.roots()?;
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| ClusterError::Tls(e.to_string()))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(tls)?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls)?
            .with_root_certificates(roots)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(tls)?;
        Ok((Arc::new(server), Arc::new(client)))
    }

    /// Checks that this node's own certificate names `node`.
    pub(crate) fn check_names(&self, node: &str) -> Result<(), ClusterError> {
        match self.chain.first() {
            Some(cert) => names(cert, node).map_err(|why| {
                ClusterError::Tls(format!("this node's certificate does not name it: {why}"))
            }),
            None => Err(ClusterError::Tls("no node certificate".into())),
        }
    }
}

/// The server name a node is dialed by: its node name, which must be a DNS name.
pub(crate) fn server_name(node: &str) -> Result<ServerName<'static>, String> {
    match ServerName::try_from(node.to_string()) {
        Ok(name @ ServerName::DnsName(_)) => Ok(name),
        _ => Err(format!(
            "node name {node:?} is not a DNS name (letters, digits, '-' and '.'); its \
             certificate must carry it as a DNS subject alternative name"
        )),
    }
}

/// Whether `cert` names `node` (as a DNS subject alternative name).
pub(crate) fn names(cert: &CertificateDer<'_>, node: &str) -> Result<(), String> {
    let name = server_name(node)?;
    let parsed = rustls::server::ParsedCertificate::try_from(cert).map_err(|e| e.to_string())?;
    rustls::client::verify_server_name(&parsed, &name)
        .map_err(|_| format!("the certificate does not name {node:?}"))
}

/// A throwaway certificate authority for development, tests and examples: it issues node
/// certificates on the spot. Production clusters use certificates from their own CA
/// ([`TlsConfig::from_pem_files`]).
///
/// ```
/// # fn main() -> Result<(), ensemble_cluster::ClusterError> {
/// use ensemble_cluster::DevCa;
/// let ca = DevCa::new("my test cluster")?;
/// let tls = ca.tls_config("node-a")?; // a certificate naming node-a, signed by `ca`
/// let (cert_pem, key_pem) = ca.issue("node-b")?; // or PEM, to write to files
/// assert!(cert_pem.contains("BEGIN CERTIFICATE") && key_pem.contains("PRIVATE KEY"));
/// # let _ = tls; Ok(()) }
/// ```
pub struct DevCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

fn rcgen_err(e: rcgen::Error) -> ClusterError {
    ClusterError::Tls(e.to_string())
}

impl DevCa {
    /// A new CA with a fresh random key.
    pub fn new(name: &str) -> Result<DevCa, ClusterError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rcgen_err)?;
        DevCa::with_key(name, key)
    }

    /// A CA whose key is derived from `seed`, so that processes that share the seed share
    /// the CA without exchanging files (what `NodeConfig::insecure_dev` uses: anyone who
    /// knows the seed can issue certificates, hence loopback only).
    pub(crate) fn from_seed(name: &str, seed: &[u8]) -> Result<DevCa, ClusterError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, seed);
        // PKCS#8 v1 of an Ed25519 key: a fixed prefix, then the 32-byte seed.
        let mut pkcs8 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        pkcs8.extend_from_slice(digest.as_ref());
        let der = PrivatePkcs8KeyDer::from(pkcs8);
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ED25519)
            .map_err(rcgen_err)?;
        DevCa::with_key(name, key)
    }

    fn with_key(name: &str, key: rcgen::KeyPair) -> Result<DevCa, ClusterError> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err)?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).map_err(rcgen_err)?;
        Ok(DevCa {
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.pem
    }

    /// A certificate naming `node` (for both ends of a connection) and its key, PEM.
    pub fn issue(&self, node: &str) -> Result<(String, String), ClusterError> {
        server_name(node).map_err(ClusterError::Config)?;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rcgen_err)?;
        let mut params =
            rcgen::CertificateParams::new(vec![node.to_string()]).map_err(rcgen_err)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, node);
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer).map_err(rcgen_err)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// A [`TlsConfig`] for `node`, with a certificate issued on the spot.
    pub fn tls_config(&self, node: &str) -> Result<TlsConfig, ClusterError> {
        let (cert, key) = self.issue(node)?;
        TlsConfig::from_pem(self.pem.as_bytes(), cert.as_bytes(), key.as_bytes())
    }

    /// Writes `ca.pem`, `<node>.pem` and `<node>.key` into `dir`; returns their paths.
    pub fn write_pem_files(
        &self,
        dir: &Path,
        node: &str,
    ) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf), ClusterError> {
        let (cert, key) = self.issue(node)?;
        let write = |name: String, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| ClusterError::io(format!("writing {}", path.display()), e))?;
            Ok::<_, ClusterError>(path)
        };
        Ok((
            write("ca.pem".into(), &self.pem)?,
            write(format!("{node}.pem"), &cert)?,
            write(format!("{node}.key"), &key)?,
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_name_their_node_and_only_it() {
        let ca = DevCa::new("test").unwrap();
        let tls = ca.tls_config("node-a.cluster.local").unwrap();
        tls.check_names("node-a.cluster.local").unwrap();
        assert!(tls.check_names("node-b.cluster.local").is_err());
        assert!(tls.rustls().is_ok());
        assert!(ca.issue("not a dns name!").is_err());
    }

    #[test]
    fn seeded_cas_agree_on_their_key() {
        let a = DevCa::from_seed("dev", b"seed").unwrap();
        let b = DevCa::from_seed("dev", b"seed").unwrap();
        assert_eq!(
            a.issuer.key().public_key_raw(),
            b.issuer.key().public_key_raw()
        );
        let c = DevCa::from_seed("dev", b"other").unwrap();
        assert_ne!(
            a.issuer.key().public_key_raw(),
            c.issuer.key().public_key_raw()
        );
    }
}
