//! The sharded-cache example: progress lines while loaded, every accepted write readable
//! afterwards, every refused one accounted for.

mod common;

use std::process::Command;

#[test]
fn sharded_cache_example_reads_back_every_accepted_write() {
    let out = Command::new(common::example_binary("ensemble", "sharded_cache"))
        .args(["--seconds", "2", "--writers", "2"])
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[  1s]"),
        "a progress line per second: {stdout}"
    );
    assert!(stdout.contains("=== Summary ==="), "{stdout}");
    // The example itself checks accepted + rejected == attempted, and reads every key back.
    assert!(
        stdout.contains("verified: 2000 keys, every accepted write is readable"),
        "{stdout}"
    );
    let help = Command::new(common::example_binary("ensemble", "sharded_cache"))
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(String::from_utf8_lossy(&help.stdout).contains("USAGE"));
}
