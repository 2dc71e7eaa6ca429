//! Length-delimited frames on a byte stream: a `u32` big-endian length, then that many
//! bytes. The length is checked against a cap *before* anything is allocated for the
//! frame, so a peer that claims a 4 GiB frame costs nothing but a closed connection.
//!
//! [`FrameBuffer`] reads in the style of mini-redis's `Connection`: bytes are appended to
//! one buffer, whole frames are parsed out of it in place, and a partial frame waits for
//! more bytes ([`Parsed::Incomplete`]). Nothing here panics on any input.

use std::fmt;

/// The bytes in front of every frame.
pub const PREFIX: usize = 4;

/// Why a stream stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The peer announced a frame larger than the cap.
    TooLarge {
        /// The announced length.
        len: u64,
        /// The cap.
        max: usize,
    },
    /// A frame of length zero (no envelope fits in it).
    Empty,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes announced; the cap is {max}")
            }
            FrameError::Empty => f.write_str("empty frame"),
        }
    }
}

impl std::error::Error for FrameError {}

/// What the front of a buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole frame: its body is `buf[start..end]`; `end` bytes are consumed.
    Frame {
        /// Where the body starts.
        start: usize,
        /// Where it ends (and the next frame starts).
        end: usize,
    },
    /// Not a whole frame yet; at least `need` bytes in all are needed.
    Incomplete {
        /// The buffer length at which another parse may succeed.
        need: usize,
    },
}

/// Parses the frame at the front of `buf`, if it is all there.
pub fn parse(buf: &[u8], max: usize) -> Result<Parsed, FrameError> {
    if buf.len() < PREFIX {
        return Ok(Parsed::Incomplete { need: PREFIX });
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize > max {
        return Err(FrameError::TooLarge {
            len: u64::from(len),
            max,
        });
    }
    if len == 0 {
        return Err(FrameError::Empty);
    }
    let end = PREFIX + len_usize;
    if buf.len() < end {
        return Ok(Parsed::Incomplete { need: end });
    }
    Ok(Parsed::Frame { start: PREFIX, end })
}

/// Appends a frame holding what `body` writes. The length is patched in afterwards, so
/// the body is written once, in place.
pub fn write(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0; PREFIX]);
    body(out);
    let len = u32::try_from(out.len() - at - PREFIX).unwrap_or(u32::MAX);
    out[at..at + PREFIX].copy_from_slice(&len.to_be_bytes());
}

/// The read side of a connection: bytes in, frames out.
pub struct FrameBuffer {
    buf: Vec<u8>,
    /// Where unparsed bytes start.
    start: usize,
    max: usize,
}

impl FrameBuffer {
    /// An empty buffer for frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        FrameBuffer {
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            max,
        }
    }

    /// The buffer to read more bytes into (append only, e.g. with tokio's `read_buf`):
    /// parsed bytes are dropped from its front first, and room for 256 KiB is reserved.
    pub fn read_target(&mut self) -> &mut Vec<u8> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(256 * 1024);
        &mut self.buf
    }

    /// The next whole frame's body, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        match parse(&self.buf[self.start..], self.max)? {
            Parsed::Incomplete { .. } => Ok(None),
            Parsed::Frame { start, end } => {
                let at = self.start;
                self.start += end;
                Ok(Some(&self.buf[at + start..at + end]))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_frame_is_its_length_then_its_body() {
        let mut out = Vec::new();
        write(&mut out, |b| b.extend_from_slice(b"hello"));
        assert_eq!(out, [0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']);
        assert_eq!(parse(&out, 16), Ok(Parsed::Frame { start: 4, end: 9 }));
        assert_eq!(parse(&out[..7], 16), Ok(Parsed::Incomplete { need: 9 }));
        assert_eq!(parse(&out[..2], 16), Ok(Parsed::Incomplete { need: 4 }));
    }

    #[test]
    fn oversized_and_empty_frames_are_refused_before_allocating() {
        assert_eq!(
            parse(&[0xff, 0xff, 0xff, 0xff], 1 << 20),
            Err(FrameError::TooLarge {
                len: u64::from(u32::MAX),
                max: 1 << 20
            })
        );
        assert_eq!(parse(&[0, 0, 0, 0], 16), Err(FrameError::Empty));
    }

    /// Feeds `bytes` to a buffer in chunks of `chunk` bytes; returns the frames.
    fn feed(bytes: &[u8], chunk: usize, max: usize) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut buf = FrameBuffer::new(max);
        let mut frames = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            buf.read_target().extend_from_slice(piece);
            while let Some(frame) = buf.next_frame()? {
                frames.push(frame.to_vec());
            }
        }
        Ok(frames)
    }

    proptest! {
        /// Any frames, cut into any chunks, come out whole and in order.
        #[test]
        fn frames_survive_any_chunking(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..20),
            chunk in 1usize..700,
        ) {
            let mut stream = Vec::new();
            for b in &bodies {
                write(&mut stream, |out| out.extend_from_slice(b));
            }
            prop_assert_eq!(feed(&stream, chunk, 4096).unwrap(), bodies);
        }

        /// Random bytes and truncated streams never panic: they give frames, an error,
        /// or wait for more.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..64) {
            let _ = feed(&bytes, chunk, 1024);
        }
    }
}
