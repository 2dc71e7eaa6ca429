//! Bytes a peer may send on a connection, after the handshake: the frame reader, the
//! envelope decoder and the payload decoder must never panic, and never allocate what a
//! frame claims before checking it against the cap.
//!
//! ```text
//! cd ensemble-cluster/fuzz && cargo +nightly fuzz run frames -- -max_total_time=300
//! ```
#![no_main]

use ensemble::RpcReplyPort;
use ensemble_cluster::frame::FrameBuffer;
use ensemble_cluster::wire::Envelope;
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "fuzz.msg")]
enum Msg {
    Add(u64, String),
    Get(RpcReplyPort<Vec<u8>>),
    Many { items: Vec<(u32, Option<String>)> },
}

fuzz_target!(|data: &[u8]| {
    // Split the input into reads of varying sizes, as a socket would deliver them.
    let mut buf = FrameBuffer::new(64 * 1024);
    let mut rest = data;
    while !rest.is_empty() {
        let n = usize::from(rest[0] % 64) + 1;
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        buf.read_target().extend_from_slice(chunk);
        loop {
            match buf.next_frame() {
                Ok(Some(frame)) => {
                    if let Ok(Envelope::Cast { payload, .. } | Envelope::Call { payload, .. }) =
                        Envelope::decode(frame)
                    {
                        // Without the cluster's context a reply port fails to decode: an
                        // error, never a panic.
                        let _ = ensemble::remote::decode::<Msg>(payload);
                    }
                }
                Ok(None) => break,
                Err(_) => return, // the connection would be closed
            }
        }
    }
});
