//! Real partitions: each node process in a network namespace of its own, all joined by a
//! bridge in a hub namespace, with nftables rules dropping the traffic a partition cuts.
//!
//! This needs root (or CAP_NET_ADMIN), `ip` and `nft`. [`Netns::create`] says why not when
//! it cannot, and callers print a SKIP line. Everything made is removed on drop (the
//! namespaces, and with them their links and rules); a namespace left behind by a killed
//! run is removed by the next one with the same name.

use std::process::{Command, Output};

/// The namespaces of one run.
#[derive(Debug)]
pub struct Netns {
    prefix: String,
    nodes: usize,
}

fn run(args: &[&str]) -> Result<Output, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    /// Makes `nodes` namespaces on a bridge, node `i` at [`addr(i)`](Self::addr).
    pub fn create(nodes: usize) -> Result<Netns, String> {
        for tool in ["ip", "nft"] {
            run(&["sh", "-c", &format!("command -v {tool}")])
                .map_err(|_| format!("`{tool}` is not installed"))?;
        }
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run_no = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!("ens{}x{run_no}", std::process::id() % 100_000);
        let ns = Netns { prefix, nodes };
        ns.remove();
        let hub = ns.hub();
        run(&["ip", "netns", "add", &hub])?;
        run(&["ip", "-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        run(&["ip", "-n", &hub, "link", "set", "br0", "up"])?;
        for i in 0..nodes {
            let name = ns.name(i);
            let port = format!("v{i}");
            run(&["ip", "netns", "add", &name])?;
            run(&[
                "ip", "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &name,
            ])?;
            run(&[
                "ip", "-n", &hub, "link", "set", &port, "master", "br0", "up",
            ])?;
            run(&[
                "ip",
                "-n",
                &name,
                "addr",
                "add",
                &format!("{}/24", ns.addr(i)),
                "dev",
                "eth0",
            ])?;
            run(&["ip", "-n", &name, "link", "set", "eth0", "up"])?;
            run(&["ip", "-n", &name, "link", "set", "lo", "up"])?;
            run(&[
                "ip", "netns", "exec", &name, "nft", "add", "table", "inet", "chaos",
            ])?;
            for (chain, hook) in [("in", "input"), ("out", "output")] {
                run(&[
                    "ip",
                    "netns",
                    "exec",
                    &name,
                    "nft",
                    &format!(
                        "add chain inet chaos {chain} {{ type filter hook {hook} priority 0; policy accept; }}"
                    ),
                ])?;
            }
        }
        Ok(ns)
    }

    fn hub(&self) -> String {
        format!("{}-hub", self.prefix)
    }

    /// Node `i`'s namespace.
    pub fn name(&self, i: usize) -> String {
        format!("{}-n{i}", self.prefix)
    }

    /// Node `i`'s address.
    pub fn addr(&self, i: usize) -> String {
        format!("10.77.0.{}", i + 1)
    }

    /// The command prefix that runs a program in node `i`'s namespace.
    pub fn exec(&self, i: usize) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), self.name(i)]
    }

    /// Drops everything node `from` sends to node `to` (a one-way cut; call it both ways
    /// for a two-way one).
    pub fn cut(&self, from: usize, to: usize) -> Result<(), String> {
        let rule = |ns: usize, chain: &str, dir: &str, peer: usize| {
            run(&[
                "ip",
                "netns",
                "exec",
                &self.name(ns),
                "nft",
                "add",
                "rule",
                "inet",
                "chaos",
                chain,
                "ip",
                dir,
                &self.addr(peer),
                "drop",
            ])
            .map(|_| ())
        };
        rule(from, "out", "daddr", to)?;
        rule(to, "in", "saddr", from)
    }

    /// Removes every cut.
    pub fn heal(&self) -> Result<(), String> {
        for i in 0..self.nodes {
            for chain in ["in", "out"] {
                run(&[
                    "ip",
                    "netns",
                    "exec",
                    &self.name(i),
                    "nft",
                    "flush",
                    "chain",
                    "inet",
                    "chaos",
                    chain,
                ])?;
            }
        }
        Ok(())
    }

    fn remove(&self) {
        for i in 0..self.nodes {
            let _ = run(&["ip", "netns", "del", &self.name(i)]);
        }
        let _ = run(&["ip", "netns", "del", &self.hub()]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.remove();
    }
}
