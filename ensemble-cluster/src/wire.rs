//! The wire: the versioned envelope every frame between two nodes carries.
//!
//! An envelope is a small fixed binary header, then the payload: the message, encoded as
//! MessagePack by the runtime (`ensemble::remote::encode`, structs as maps). The header is
//! hand-written rather than MessagePack because it is read for every message and only its
//! fields matter; it is versioned, so a node can refuse a frame from a newer protocol it
//! does not understand instead of misreading it. Integers are little-endian, fixed width.
//!
//! ```text
//! version u8 = 1 | kind u8 | fields of the kind ...
//! (0x01 Hello and 0x06 Goodbye belong to the transport: see `transport::control`)
//! Cast     0x02  target u64, sender u64, wire name len u8, wire name, trace len u8, trace, payload...
//! Call     0x03  target u64, sender u64, correlation u64, timeout ms u32 (0 = none),
//!                wire name len u8, wire name, trace len u8, trace, payload...
//! Reply    0x04  correlation u64, status u8, payload... (a text for the error statuses)
//! Stop     0x05  target u64
//! System   0x07  payload: a MessagePack `SystemMsg` (monitors, links, exits, spawns)
//! ```
//!
//! Decoding never panics and never allocates: it borrows from the frame, and any frame
//! that does not parse is an error the connection reports and closes on.

use std::fmt;

/// The envelope version this build writes and reads.
pub const VERSION: u8 = 1;

/// One decoded envelope, borrowing from its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// A message with no reply port.
    Cast {
        /// The target actor's id on the receiving node.
        target: u64,
        /// The sending actor's id, 0 when unknown.
        sender: u64,
        /// The message type's wire name.
        wire_name: &'a str,
        /// Trace context (empty when none).
        trace: &'a [u8],
        /// The encoded message.
        payload: &'a [u8],
    },
    /// A message with a reply port: a reply frame with the same correlation id answers it.
    Call {
        /// The target actor's id on the receiving node.
        target: u64,
        /// The sending actor's id, 0 when unknown.
        sender: u64,
        /// Identifies the reply.
        correlation: u64,
        /// How long the caller waits, in ms, counted from when the frame is read (0: no
        /// limit). Relative, so that clock differences between nodes do not matter.
        timeout_ms: u32,
        /// The message type's wire name.
        wire_name: &'a str,
        /// Trace context (empty when none).
        trace: &'a [u8],
        /// The encoded message.
        payload: &'a [u8],
    },
    /// The answer to a call.
    Reply {
        /// The call's correlation id.
        correlation: u64,
        /// How the call went.
        status: Status,
        /// The encoded reply (`Ok`), or a text saying what went wrong.
        payload: &'a [u8],
    },
    /// Stop the actor (`stop` on a remote ref).
    Stop {
        /// The target actor's id on the receiving node.
        target: u64,
    },
    /// Supervision across nodes: a MessagePack [`SystemMsg`].
    System {
        /// The encoded message.
        payload: &'a [u8],
    },
}

/// Supervision between nodes (in a [`Envelope::System`] frame). Ids are each local to the
/// node named: "on sender" or "on receiver".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum SystemMsg {
    /// The sender's actor `watcher` monitors the receiver's actor `target`.
    Monitor {
        /// On the sender.
        watcher: u64,
        /// On the receiver.
        target: u64,
    },
    /// Undoes `Monitor`.
    Demonitor {
        /// On the sender.
        watcher: u64,
        /// On the receiver.
        target: u64,
    },
    /// The sender's actor `target`, which the receiver's `watcher` monitors, ended.
    Down {
        /// On the receiver.
        watcher: u64,
        /// On the sender.
        target: u64,
        /// Why.
        reason: ensemble::ExitReason,
    },
    /// A link was made on the sender between a child and a parent, one on each node.
    Link {
        /// The child's id, on the sender if `child_on_sender`, else on the receiver.
        child: u64,
        /// The parent's id, on the other node.
        parent: u64,
        /// Which side the child is on.
        child_on_sender: bool,
    },
    /// Undoes `Link`.
    Unlink {
        /// As in `Link`.
        child: u64,
        /// As in `Link`.
        parent: u64,
        /// As in `Link`.
        child_on_sender: bool,
    },
    /// The sender's actor `child`, linked to the receiver's `parent`, started or ended.
    Exit {
        /// On the receiver.
        parent: u64,
        /// On the sender.
        child: u64,
        /// What happened.
        exit: ensemble::remote::ChildExit,
    },
    /// Spawn an actor of a registered kind on the receiver.
    Spawn {
        /// Identifies the answer.
        token: u64,
        /// The kind (its message type's wire name).
        kind: String,
        /// A name to register it under on the receiver, if any.
        name: Option<String>,
        /// The encoded arguments.
        #[serde(with = "serde_bytes")]
        args: Vec<u8>,
        /// The sender's actor to link it to, if any.
        parent: Option<u64>,
    },
    /// The answer to `Spawn`: the new actor's id on the sender, or why not.
    Spawned {
        /// The request's token.
        token: u64,
        /// The actor's id, or why it was not started.
        result: Result<u64, Refusal>,
    },
}

/// Why a node did not start an actor another node asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Refusal {
    /// No actor kind is registered under that name there.
    NotSpawnable,
    /// The name is held by a live actor there.
    AlreadyRegistered(String),
    /// The arguments did not decode as the kind's arguments (the text says why).
    Arguments(String),
    /// The actor's `pre_start` failed (the text says how).
    StartupFailed(String),
    /// The node is shutting down.
    ShuttingDown,
}

impl SystemMsg {
    /// Appends a `System` envelope holding this message to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let payload =
            ensemble::remote::encode(self).map_err(|_| WireError::TooLong("a system message"))?;
        Envelope::System { payload: &payload }.encode(out)
    }
}

/// How a call went, in a reply frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// The payload is the reply.
    Ok = 0,
    /// The actor dropped the reply port without replying.
    Dropped = 1,
    /// No such actor on the node (it has ended), or it stopped before handling the call.
    NoActor = 2,
    /// The request did not decode on the receiving node (the payload says why).
    DecodeError = 3,
    /// The reply could not be encoded (the payload says why).
    EncodeError = 4,
    /// The actor's bounded mailbox was full.
    Full = 5,
}

impl Status {
    fn from_u8(v: u8) -> Option<Status> {
        Some(match v {
            0 => Status::Ok,
            1 => Status::Dropped,
            2 => Status::NoActor,
            3 => Status::DecodeError,
            4 => Status::EncodeError,
            5 => Status::Full,
            _ => return None,
        })
    }
}

/// A frame that is not a valid envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The frame ended before its fields did.
    Truncated,
    /// A version this build does not speak.
    Version(u8),
    /// An unknown kind of envelope.
    Kind(u8),
    /// An unknown reply status.
    Status(u8),
    /// A name that is not UTF-8.
    NotUtf8,
    /// A field longer than its length byte allows (when encoding).
    TooLong(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("frame truncated"),
            WireError::Version(v) => write!(
                f,
                "envelope version {v} (this node speaks {VERSION}; upgrade it)"
            ),
            WireError::Kind(k) => write!(f, "unknown envelope kind {k:#04x}"),
            WireError::Status(s) => write!(f, "unknown reply status {s}"),
            WireError::NotUtf8 => f.write_str("a name is not UTF-8"),
            WireError::TooLong(what) => write!(f, "{what} longer than 255 bytes"),
        }
    }
}

impl std::error::Error for WireError {}

const CAST: u8 = 0x02;
const CALL: u8 = 0x03;
const REPLY: u8 = 0x04;
const STOP: u8 = 0x05;
const SYSTEM: u8 = 0x07;

/// Reads fields off the front of a frame.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn short_bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u8()?;
        self.bytes(usize::from(n))
    }

    fn short_str(&mut self) -> Result<&'a str, WireError> {
        std::str::from_utf8(self.short_bytes()?).map_err(|_| WireError::NotUtf8)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

impl<'a> Envelope<'a> {
    /// Decodes one frame's envelope. Never panics; borrows from `frame`.
    pub fn decode(frame: &'a [u8]) -> Result<Envelope<'a>, WireError> {
        let mut r = Reader(frame);
        let version = r.u8()?;
        if version != VERSION {
            return Err(WireError::Version(version));
        }
        match r.u8()? {
            CAST => Ok(Envelope::Cast {
                target: r.u64()?,
                sender: r.u64()?,
                wire_name: r.short_str()?,
                trace: r.short_bytes()?,
                payload: r.rest(),
            }),
            CALL => Ok(Envelope::Call {
                target: r.u64()?,
                sender: r.u64()?,
                correlation: r.u64()?,
                timeout_ms: r.u32()?,
                wire_name: r.short_str()?,
                trace: r.short_bytes()?,
                payload: r.rest(),
            }),
            REPLY => {
                let correlation = r.u64()?;
                let status = r.u8()?;
                let status = Status::from_u8(status).ok_or(WireError::Status(status))?;
                Ok(Envelope::Reply {
                    correlation,
                    status,
                    payload: r.rest(),
                })
            }
            STOP => Ok(Envelope::Stop { target: r.u64()? }),
            SYSTEM => Ok(Envelope::System { payload: r.rest() }),
            kind => Err(WireError::Kind(kind)),
        }
    }

    /// Appends this envelope to `out` (without the frame's length prefix).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        fn short(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), WireError> {
            let n = u8::try_from(bytes.len()).map_err(|_| WireError::TooLong(what))?;
            out.push(n);
            out.extend_from_slice(bytes);
            Ok(())
        }
        out.push(VERSION);
        match *self {
            Envelope::Cast {
                target,
                sender,
                wire_name,
                trace,
                payload,
            } => {
                out.push(CAST);
                out.extend_from_slice(&target.to_le_bytes());
                out.extend_from_slice(&sender.to_le_bytes());
                short(out, wire_name.as_bytes(), "a wire name")?;
                short(out, trace, "a trace context")?;
                out.extend_from_slice(payload);
            }
            Envelope::Call {
                target,
                sender,
                correlation,
                timeout_ms,
                wire_name,
                trace,
                payload,
            } => {
                out.push(CALL);
                out.extend_from_slice(&target.to_le_bytes());
                out.extend_from_slice(&sender.to_le_bytes());
                out.extend_from_slice(&correlation.to_le_bytes());
                out.extend_from_slice(&timeout_ms.to_le_bytes());
                short(out, wire_name.as_bytes(), "a wire name")?;
                short(out, trace, "a trace context")?;
                out.extend_from_slice(payload);
            }
            Envelope::Reply {
                correlation,
                status,
                payload,
            } => {
                out.push(REPLY);
                out.extend_from_slice(&correlation.to_le_bytes());
                out.push(status as u8);
                out.extend_from_slice(payload);
            }
            Envelope::Stop { target } => {
                out.push(STOP);
                out.extend_from_slice(&target.to_le_bytes());
            }
            Envelope::System { payload } => {
                out.push(SYSTEM);
                out.extend_from_slice(payload);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Random frames, and every valid frame cut short, are errors or envelopes: never
        /// a panic.
        #[test]
        fn random_and_truncated_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Envelope::decode(&bytes);
            let mut good = Vec::new();
            Envelope::Call {
                target: 1,
                sender: 2,
                correlation: 3,
                timeout_ms: 4,
                wire_name: "wire",
                trace: b"trace",
                payload: &bytes,
            }
            .encode(&mut good)
            .unwrap();
            for cut in 0..good.len().min(48) {
                let _ = Envelope::decode(&good[..cut]);
            }
            prop_assert!(Envelope::decode(&good).is_ok());
        }

        /// Whatever is encoded decodes to itself.
        #[test]
        fn envelopes_roundtrip(target in any::<u64>(), correlation in any::<u64>(), timeout_ms in any::<u32>(),
                               wire_name in "[a-z.]{0,40}", payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            for e in [
                Envelope::Cast { target, sender: target ^ 1, wire_name: &wire_name, trace: &[], payload: &payload },
                Envelope::Call { target, sender: 0, correlation, timeout_ms, wire_name: &wire_name, trace: &payload[..payload.len().min(255)], payload: &payload },
                Envelope::Reply { correlation, status: Status::Ok, payload: &payload },
                Envelope::Stop { target },
            ] {
                let mut out = Vec::new();
                e.encode(&mut out).unwrap();
                prop_assert_eq!(Envelope::decode(&out).unwrap(), e);
            }
        }
    }

    fn roundtrip(e: Envelope<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        e.encode(&mut out).unwrap();
        assert_eq!(Envelope::decode(&out).unwrap(), e);
        out
    }

    /// The exact bytes of each kind: a change here changes the wire and must be
    /// deliberate (bump `VERSION`).
    #[test]
    fn golden_bytes() {
        assert_eq!(
            roundtrip(Envelope::Cast {
                target: 7,
                sender: 0,
                wire_name: "w",
                trace: &[],
                payload: &[0x90]
            }),
            [
                1, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'w', 0, 0x90
            ]
        );
        assert_eq!(
            roundtrip(Envelope::Call {
                target: 1,
                sender: 2,
                correlation: 3,
                timeout_ms: 250,
                wire_name: "w",
                trace: b"t",
                payload: b"p"
            }),
            [
                1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 250,
                0, 0, 0, 1, b'w', 1, b't', b'p'
            ]
        );
        assert_eq!(
            roundtrip(Envelope::Reply {
                correlation: 9,
                status: Status::NoActor,
                payload: b""
            }),
            [1, 4, 9, 0, 0, 0, 0, 0, 0, 0, 2]
        );
        assert_eq!(
            roundtrip(Envelope::Stop { target: 5 }),
            [1, 5, 5, 0, 0, 0, 0, 0, 0, 0]
        );
        // A system message: the envelope, then MessagePack (a map keyed by field names).
        let mut out = Vec::new();
        SystemMsg::Monitor {
            watcher: 1,
            target: 2,
        }
        .encode(&mut out)
        .unwrap();
        assert_eq!(
            out,
            [
                1, 7, 0x81, 0xa7, b'M', b'o', b'n', b'i', b't', b'o', b'r', 0x82, 0xa7, b'w', b'a',
                b't', b'c', b'h', b'e', b'r', 1, 0xa6, b't', b'a', b'r', b'g', b'e', b't', 2
            ]
        );
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        assert_eq!(Envelope::decode(&[]), Err(WireError::Truncated));
        assert_eq!(Envelope::decode(&[2, 1]), Err(WireError::Version(2)));
        assert_eq!(Envelope::decode(&[1, 0x7f]), Err(WireError::Kind(0x7f)));
        assert_eq!(Envelope::decode(&[1, 2, 7]), Err(WireError::Truncated));
        assert_eq!(
            Envelope::decode(&[1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 99]),
            Err(WireError::Status(99))
        );
        assert_eq!(
            Envelope::decode(&[
                1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0
            ]),
            Err(WireError::NotUtf8)
        );
        let long = "x".repeat(256);
        let mut out = Vec::new();
        assert_eq!(
            Envelope::Cast {
                target: 1,
                sender: 0,
                wire_name: &long,
                trace: &[],
                payload: &[]
            }
            .encode(&mut out),
            Err(WireError::TooLong("a wire name"))
        );
        // The transport's kinds are not envelopes.
        assert_eq!(Envelope::decode(&[1, 0x01]), Err(WireError::Kind(0x01)));
        assert_eq!(Envelope::decode(&[1, 0x06]), Err(WireError::Kind(0x06)));
    }
}
