//! The transport's own frames, in the same header layout as the wire's envelopes
//! (`version u8 = 1 | kind u8 | ...`), kinds the wire leaves to it:
//!
//! ```text
//! Hello    0x01  incarnation u64 (LE), name len u8, name   — first frame each way
//! Goodbye  0x06                                            — the sender is leaving
//! ```

/// The frame layout version (shared with the wire's envelopes).
const VERSION: u8 = 1;
const HELLO: u8 = 0x01;
const GOODBYE: u8 = 0x06;

/// A transport frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control<'a> {
    /// Who the sender is: the first frame on a connection, each way.
    Hello {
        /// Its node name (its certificate must name it).
        name: &'a str,
        /// Its incarnation.
        incarnation: u64,
    },
    /// The sender is leaving the cluster: take it as down now.
    Goodbye,
}

impl<'a> Control<'a> {
    /// A transport frame, or `None` for anything else (an envelope for the layers above,
    /// or garbage, which they reject).
    pub(crate) fn decode(frame: &'a [u8]) -> Option<Control<'a>> {
        match frame {
            [VERSION, GOODBYE] => Some(Control::Goodbye),
            [VERSION, HELLO, rest @ ..] if rest.len() >= 9 => {
                let mut inc = [0u8; 8];
                inc.copy_from_slice(&rest[..8]);
                let len = usize::from(rest[8]);
                let name = rest.get(9..9 + len)?;
                if rest.len() != 9 + len {
                    return None;
                }
                Some(Control::Hello {
                    name: std::str::from_utf8(name).ok()?,
                    incarnation: u64::from_le_bytes(inc),
                })
            }
            _ => None,
        }
    }

    /// Appends the frame body to `out`. A name over 255 bytes is cut (names are DNS
    /// names, at most 253).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(VERSION);
        match *self {
            Control::Hello { name, incarnation } => {
                out.push(HELLO);
                out.extend_from_slice(&incarnation.to_le_bytes());
                let name = &name.as_bytes()[..name.len().min(255)];
                out.push(name.len() as u8);
                out.extend_from_slice(name);
            }
            Control::Goodbye => out.push(GOODBYE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_bytes_and_bad_input() {
        let mut out = Vec::new();
        Control::Hello {
            name: "a",
            incarnation: 2,
        }
        .encode(&mut out);
        assert_eq!(out, [1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1, b'a']);
        assert_eq!(
            Control::decode(&out),
            Some(Control::Hello {
                name: "a",
                incarnation: 2
            })
        );
        let mut bye = Vec::new();
        Control::Goodbye.encode(&mut bye);
        assert_eq!(bye, [1, 6]);
        assert_eq!(Control::decode(&bye), Some(Control::Goodbye));
        for bad in [
            &[][..],
            &[1],
            &[1, 1, 0],
            &[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, b'a'],
            &[2, 6],
            &[1, 6, 0],
        ] {
            assert_eq!(Control::decode(bad), None, "{bad:?}");
        }
    }
}
