//! The line protocol between the driver and a node process.
//!
//! The driver writes one [`Command`] per line on the node's stdin; the node writes one
//! [`Record`] per line on its stdout, as JSON: everything it does and sees, timestamped,
//! so that the [`history`](crate::history) checker can judge the run afterwards.
//!
//! ```text
//! workload <casts per second>     start sending (every 5th message is a call)
//! quiet                           stop sending
//! members <request id>            answer with a `members` record
//! stats                           answer with a `stats` record
//! fault isolate | heal            the in-process fault layer (ensemble_cluster::faults)
//! fault block <peer> in|out|both
//! fault delay <ms>
//! fault drop <one in n>
//! fault reset <peer>
//! leave                           leave the cluster gracefully, then exit
//! ```

use serde::{Deserialize, Serialize};

/// One line of a node's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When, in microseconds since the Unix epoch (all nodes share the machine's clock).
    pub t: u64,
    /// The node's name.
    pub node: String,
    /// The node's incarnation when it wrote the record.
    pub inc: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// The node is up and listening at `addr`.
    Ready {
        /// Its address.
        addr: String,
    },
    /// A member came up.
    Up {
        /// Its name.
        peer: String,
        /// Its incarnation.
        peer_inc: u64,
    },
    /// A member was declared down.
    Down {
        /// Its name.
        peer: String,
        /// Its incarnation.
        peer_inc: u64,
        /// Why (`DownReason`'s text).
        reason: String,
        /// Whether that incarnation is now refused (not when this node itself was the one
        /// declared down and is rejoining).
        quarantined: bool,
    },
    /// The cluster declared this node down; it rejoined as `new_inc`.
    Rejoined {
        /// The new incarnation.
        new_inc: u64,
    },
    /// A message was cast to worker `to`.
    Send {
        /// The message's id (unique in the run).
        id: String,
        /// The receiving worker's key.
        to: String,
        /// Its place in the sequence from this sender (the node, in this incarnation) to `to`.
        seq: u64,
    },
    /// Worker `to` received a message.
    Recv {
        /// The message's id.
        id: String,
        /// The sender's key (`node#incarnation`).
        from: String,
        /// Its place in the sender's sequence to this worker.
        seq: u64,
        /// The receiving worker's key.
        to: String,
    },
    /// A call to worker `to` was made.
    Call {
        /// The call's id.
        id: String,
        /// The worker's key.
        to: String,
        /// Its timeout.
        timeout_ms: u64,
    },
    /// A call ended.
    Reply {
        /// The call's id.
        id: String,
        /// `ok`, or the error's text.
        outcome: String,
        /// How long it took.
        elapsed_ms: f64,
    },
    /// This node's watcher started monitoring worker `target`.
    Monitor {
        /// The monitor's id (unique on this node).
        mid: u64,
        /// The worker's key.
        target: String,
    },
    /// A monitor fired.
    Fired {
        /// The monitor's id.
        mid: u64,
        /// The exit reason's text.
        reason: String,
    },
    /// The members this node sees (answering `members`).
    Members {
        /// The request id.
        rid: u64,
        /// Every member's name, this node's first.
        names: Vec<String>,
    },
    /// Counters (answering `stats`).
    Stats {
        /// Frames and connections refused from quarantined incarnations.
        quarantine_drops: u64,
        /// Messages the fault layer dropped.
        dropped: u64,
    },
    /// A command was not understood, or failed.
    Error {
        /// Why.
        text: String,
    },
    /// The node left the cluster and is exiting.
    Left,
    /// (Written by the driver.) A fault was injected on these nodes.
    Injected {
        /// The fault (`sigkill`, `sigstop`, `partition`, `leave`, ...).
        fault: String,
        /// The nodes it hit.
        nodes: Vec<String>,
    },
    /// (Written by the driver.) The faults ended (`sigcont`, partitions healed).
    Healed,
}

/// A command to a node process.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send this many casts per second (0 stops).
    Workload(u32),
    /// Answer with the members seen, tagged with this id.
    Members(u64),
    /// Answer with counters.
    Stats,
    /// A fault in the node's fault layer.
    Fault(Fault),
    /// Leave gracefully and exit.
    Leave,
}

/// A fault for the in-process fault layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Cut the node off from every other.
    Isolate,
    /// End every fault.
    Heal,
    /// Cut it off from one peer (`in`, `out` or `both`).
    Block(String, String),
    /// Hold outgoing frames this many ms.
    Delay(u64),
    /// Drop one outgoing message in n.
    Drop(u32),
    /// Break the connection to a peer.
    Reset(String),
}

impl Command {
    /// Parses one line; `Err` says what is wrong.
    pub fn parse(line: &str) -> Result<Command, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| -> Result<u64, String> {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .ok_or_else(|| format!("{line:?}: expected a number after {:?}", words[i - 1]))
        };
        let word = |i: usize| -> Result<String, String> {
            words
                .get(i)
                .map(|w| (*w).to_string())
                .ok_or_else(|| format!("{line:?}: expected a word after {:?}", words[i - 1]))
        };
        match words.as_slice() {
            ["workload", ..] => Ok(Command::Workload(
                u32::try_from(number(1)?).map_err(|e| e.to_string())?,
            )),
            ["quiet"] => Ok(Command::Workload(0)),
            ["members", ..] => Ok(Command::Members(number(1)?)),
            ["stats"] => Ok(Command::Stats),
            ["leave"] => Ok(Command::Leave),
            ["fault", "isolate"] => Ok(Command::Fault(Fault::Isolate)),
            ["fault", "heal"] => Ok(Command::Fault(Fault::Heal)),
            ["fault", "block", ..] => {
                let direction = word(3)?;
                if !["in", "out", "both"].contains(&direction.as_str()) {
                    return Err(format!("{line:?}: the direction is in, out or both"));
                }
                Ok(Command::Fault(Fault::Block(word(2)?, direction)))
            }
            ["fault", "delay", ..] => Ok(Command::Fault(Fault::Delay(number(2)?))),
            ["fault", "drop", ..] => Ok(Command::Fault(Fault::Drop(
                u32::try_from(number(2)?).map_err(|e| e.to_string())?,
            ))),
            ["fault", "reset", ..] => Ok(Command::Fault(Fault::Reset(word(2)?))),
            _ => Err(format!("{line:?}: unknown command")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_say_why() {
        assert_eq!(Command::parse("workload 200"), Ok(Command::Workload(200)));
        assert_eq!(Command::parse("quiet"), Ok(Command::Workload(0)));
        assert_eq!(Command::parse("members 7"), Ok(Command::Members(7)));
        assert_eq!(
            Command::parse("fault block node-2 out"),
            Ok(Command::Fault(Fault::Block("node-2".into(), "out".into())))
        );
        assert_eq!(
            Command::parse("fault drop 10"),
            Ok(Command::Fault(Fault::Drop(10)))
        );
        assert!(
            Command::parse("fault block node-2 sideways")
                .unwrap_err()
                .contains("in, out or both")
        );
        assert!(Command::parse("workload").unwrap_err().contains("number"));
        assert!(Command::parse("dance").unwrap_err().contains("unknown"));
    }

    #[test]
    fn records_round_trip_as_one_json_line() {
        let r = Record {
            t: 1,
            node: "node-1".into(),
            inc: 2,
            event: Event::Recv {
                id: "m".into(),
                from: "node-2#3".into(),
                seq: 4,
                to: "node-1#2/w0".into(),
            },
        };
        let line = serde_json::to_string(&r).unwrap();
        assert!(
            !line.contains('\n') && line.contains("\"ev\":\"recv\""),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), r);
    }
}
