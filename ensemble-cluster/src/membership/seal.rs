//! Gossip datagrams sealed with an AEAD key derived from the cluster secret, so a stranger
//! can neither read the cluster's state nor join it.
//!
//! This is a chitchat `Transport`: chitchat hands it each gossip message, it encodes the
//! message, seals it with ChaCha20-Poly1305 under a fresh random nonce, and sends it over
//! UDP; on the way in, anything that does not open under the key is dropped before
//! chitchat parses a byte of it (and counted). The key is HKDF-SHA256 of the secret.
//!
//! A datagram is `nonce (12 bytes) | sealed(fragment header (5 bytes) | message) | tag (16
//! bytes)`. chitchat fills messages up to the UDP maximum, which leaves no room for the 33
//! bytes of sealing; such a message goes as two halves, reassembled on arrival (a lost
//! half loses the message, as a lost datagram would).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use async_trait::async_trait;
use chitchat::transport::{Socket, Transport};
use chitchat::{ChitchatMessage, Deserializable, Serializable};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;
const NONCE: usize = 12;
const TAG: usize = 16;
/// Fragment kind (1 byte) and message id (4 bytes).
const HEADER: usize = 5;
/// The most message bytes one datagram carries.
const MAX_PIECE: usize = MAX_DATAGRAM - NONCE - TAG - HEADER;
/// Halves waiting for their other half.
const MAX_PARTIAL: usize = 64;

const WHOLE: u8 = 0;
const FIRST: u8 = 1;
const SECOND: u8 = 2;

/// The gossip key: HKDF-SHA256 of the cluster secret, for this cluster id.
#[derive(Clone)]
pub(crate) struct GossipKey(Arc<LessSafeKey>);

impl GossipKey {
    pub(crate) fn derive(secret: &[u8], cluster_id: &str) -> Result<GossipKey, String> {
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"ensemble gossip v1");
        let info = [cluster_id.as_bytes()];
        let prk = salt.extract(secret);
        let okm = prk
            .expand(&info, &CHACHA20_POLY1305)
            .map_err(|_| "deriving the gossip key failed".to_string())?;
        Ok(GossipKey(Arc::new(LessSafeKey::new(UnboundKey::from(okm)))))
    }

    /// Seals `plain` into `out` (which is cleared): nonce, ciphertext, tag.
    fn seal(&self, rng: &SystemRandom, plain: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        let mut nonce = [0u8; NONCE];
        rng.fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness for a gossip nonce"))?;
        out.clear();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let mut body = out.split_off(NONCE);
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
            .map_err(|_| anyhow::anyhow!("sealing a gossip datagram failed"))?;
        out.append(&mut body);
        Ok(())
    }

    /// Opens a datagram in place; the plaintext, or `None` if it was not sealed under
    /// this key (or was altered).
    fn open<'a>(&self, datagram: &'a mut [u8]) -> Option<&'a [u8]> {
        if datagram.len() < NONCE + TAG {
            return None;
        }
        let (nonce, body) = datagram.split_at_mut(NONCE);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self.0.open_in_place(nonce, Aad::empty(), body).ok()?;
        Some(plain)
    }
}

/// The chitchat transport over sealed UDP.
pub(crate) struct SealedUdp {
    pub(crate) key: GossipKey,
    /// Datagrams dropped because they did not open: strangers, wrong secrets, corruption.
    pub(crate) rejected: Arc<AtomicU64>,
    pub(crate) faults: Arc<crate::faults::FaultState>,
}

#[async_trait]
impl Transport for SealedUdp {
    async fn open(&self, listen_addr: SocketAddr) -> anyhow::Result<Box<dyn Socket>> {
        let socket = tokio::net::UdpSocket::bind(listen_addr)
            .await
            .with_context(|| format!("binding {listen_addr}/udp for gossip"))?;
        Ok(Box::new(SealedSocket {
            socket,
            key: self.key.clone(),
            rng: SystemRandom::new(),
            plain: Vec::with_capacity(MAX_DATAGRAM),
            sealed: Vec::with_capacity(MAX_DATAGRAM),
            recv: vec![0; MAX_DATAGRAM + 1],
            next_id: 0,
            partial: HashMap::new(),
            partial_order: VecDeque::new(),
            rejected: self.rejected.clone(),
            faults: self.faults.clone(),
        }))
    }
}

struct SealedSocket {
    socket: tokio::net::UdpSocket,
    key: GossipKey,
    rng: SystemRandom,
    plain: Vec<u8>,
    sealed: Vec<u8>,
    recv: Vec<u8>,
    next_id: u32,
    /// First or second halves waiting for the other, by sender and message id.
    partial: HashMap<(SocketAddr, u32), (u8, Vec<u8>)>,
    partial_order: VecDeque<(SocketAddr, u32)>,
    rejected: Arc<AtomicU64>,
    faults: Arc<crate::faults::FaultState>,
}

impl SealedSocket {
    async fn send_piece(
        &mut self,
        to: SocketAddr,
        kind: u8,
        id: u32,
        piece_at: (usize, usize),
    ) -> anyhow::Result<usize> {
        let mut plain = Vec::with_capacity(HEADER + piece_at.1 - piece_at.0);
        plain.push(kind);
        plain.extend_from_slice(&id.to_le_bytes());
        plain.extend_from_slice(&self.plain[piece_at.0..piece_at.1]);
        self.key.seal(&self.rng, &plain, &mut self.sealed)?;
        self.socket
            .send_to(&self.sealed, to)
            .await
            .context("sending a gossip datagram")
    }

    /// A whole message, or `None` (not ours, or half of one).
    fn receive(&mut self, n: usize, from: SocketAddr) -> Option<Vec<u8>> {
        let Some(plain) = self.key.open(&mut self.recv[..n]) else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(target: "ensemble::cluster", %from, len = n,
                "gossip datagram dropped: not sealed with this cluster's secret");
            return None;
        };
        if plain.len() < HEADER {
            return None;
        }
        let kind = plain[0];
        let id = u32::from_le_bytes([plain[1], plain[2], plain[3], plain[4]]);
        let body = &plain[HEADER..];
        match kind {
            WHOLE => Some(body.to_vec()),
            FIRST | SECOND => {
                let key = (from, id);
                match self.partial.remove(&key) {
                    Some((other_kind, other)) if other_kind != kind => {
                        self.partial_order.retain(|k| *k != key);
                        let (first, second) = if kind == FIRST {
                            (body, other.as_slice())
                        } else {
                            (other.as_slice(), body)
                        };
                        let mut whole = Vec::with_capacity(first.len() + second.len());
                        whole.extend_from_slice(first);
                        whole.extend_from_slice(second);
                        Some(whole)
                    }
                    _ => {
                        if self.partial.len() >= MAX_PARTIAL {
                            if let Some(old) = self.partial_order.pop_front() {
                                self.partial.remove(&old);
                            }
                        }
                        self.partial.insert(key, (kind, body.to_vec()));
                        self.partial_order.push_back(key);
                        None
                    }
                }
            }
            _ => None,
        }
    }
}

#[async_trait]
impl Socket for SealedSocket {
    async fn send(&mut self, to: SocketAddr, message: ChitchatMessage) -> anyhow::Result<()> {
        if !self.faults.gossip(to, true) {
            return Ok(());
        }
        self.plain.clear();
        message.serialize(&mut self.plain);
        let len = self.plain.len();
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        if len <= MAX_PIECE {
            self.send_piece(to, WHOLE, id, (0, len)).await?;
        } else {
            let half = len / 2;
            self.send_piece(to, FIRST, id, (0, half)).await?;
            self.send_piece(to, SECOND, id, (half, len)).await?;
        }
        Ok(())
    }

    async fn recv(&mut self) -> anyhow::Result<(SocketAddr, ChitchatMessage)> {
        loop {
            let (n, from) = match self.socket.recv_from(&mut self.recv).await {
                Ok(got) => got,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e).context("receiving gossip"),
            };
            if !self.faults.gossip(from, false) {
                continue;
            }
            let Some(message) = self.receive(n, from) else {
                continue;
            };
            let mut slice = message.as_slice();
            match ChitchatMessage::deserialize(&mut slice) {
                Ok(message) => return Ok((from, message)),
                Err(e) => {
                    tracing::debug!(target: "ensemble::cluster", %from, error = %e,
                        "sealed gossip message did not parse; dropped");
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_opens_only_under_its_key_and_unaltered() {
        let rng = SystemRandom::new();
        let key = GossipKey::derive(b"secret", "ensemble").unwrap();
        let mut sealed = Vec::new();
        key.seal(&rng, b"hello", &mut sealed).unwrap();
        assert_eq!(sealed.len(), NONCE + 5 + TAG);
        assert_eq!(key.open(&mut sealed.clone()), Some(&b"hello"[..]));
        let other = GossipKey::derive(b"other secret", "ensemble").unwrap();
        assert_eq!(other.open(&mut sealed.clone()), None);
        let other_cluster = GossipKey::derive(b"secret", "elsewhere").unwrap();
        assert_eq!(other_cluster.open(&mut sealed.clone()), None);
        let mut altered = sealed.clone();
        altered[NONCE] ^= 1;
        assert_eq!(key.open(&mut altered), None);
        assert_eq!(key.open(&mut [0u8; 10]), None);
        // Same plaintext, fresh nonce: the datagrams differ.
        let mut again = Vec::new();
        key.seal(&rng, b"hello", &mut again).unwrap();
        assert_ne!(again, sealed);
    }
}
