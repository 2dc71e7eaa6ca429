//! The sharded-cache example: progress lines while loaded, every accepted write readable
//! afterwards, every refused one accounted for.

mod common;

use std::process::Command;

#[test]
fn sharded_cache_example_reads_back_every_accepted_write() {
    let stdout = common::run_example(
        "ensemble",
        "sharded_cache",
        &["--seconds", "2", "--writers", "2"],
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
