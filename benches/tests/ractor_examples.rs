//! ractor 0.16.5's own examples run on Ensemble with only the identifier `ractor`
//! replaced by `ensemble` (issue 14's proof).
//!
//! The examples are read from the ractor package in cargo's cache (this crate depends on
//! ractor 0.16.5, so `cargo metadata` finds it), renamed into
//! `migration/ractor-examples/renamed/`, built there (its own workspace and lock file,
//! target directory `target/ractor-examples`) and run; nothing of ractor's is committed.
//! Every example must build and exit cleanly, except `supervisor.rs`, which unwraps
//! ractor's nested call result (`.expect(..).expect(..)`) where Ensemble returns the
//! reply itself: it must fail to build for exactly that reason. The table it prints is
//! the note's figures; set `RACTOR_EXAMPLES_KEEP_OUTPUT=1` to see each example's output.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLES: [&str; 9] = [
    "a_whole_lotta",
    "a_whole_lotta_messages",
    "actor_macro",
    "counter",
    "monte_carlo",
    "output_port",
    "philosophers",
    "ping_pong",
    "supervisor",
];

/// The one that cannot build, and the error that says why.
const FLAT_REPLY: (&str, &str) = (
    "supervisor",
    "no method named `expect` found for struct `ActorRef",
);

/// How long one example may run.
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ is in the workspace")
        .to_path_buf()
}

/// ractor 0.16.5's `examples/` in cargo's package cache.
fn ractor_examples() -> PathBuf {
    let out = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(workspace().join("benches/Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8_lossy(&out.stdout);
    let key = "\"manifest_path\":\"";
    json.match_indices(key)
        .filter_map(|(at, _)| {
            let rest = &json[at + key.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .find(|path| path.ends_with("/ractor-0.16.5/Cargo.toml"))
        .map(|manifest| Path::new(manifest).with_file_name("examples"))
        .expect("ractor 0.16.5 among the benches' dependencies")
}

/// `text` with every identifier `ractor` (not part of a longer one) made `ensemble`.
fn rename(text: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("ractor") {
        let before = rest[..at].chars().next_back().or(out.chars().next_back());
        let after = rest[at + "ractor".len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(ident) || after.is_some_and(ident) {
            out.push_str("ractor");
        } else {
            out.push_str("ensemble");
        }
        rest = &rest[at + "ractor".len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn rename_touches_only_the_identifier() {
    assert_eq!(
        rename(
            "use ractor::Actor; #[ractor_example_entry_proc::x] ractor_cluster ractors (ractor)"
        ),
        "use ensemble::Actor; #[ractor_example_entry_proc::x] ractor_cluster ractors (ensemble)"
    );
}

struct Outcome {
    name: &'static str,
    built: Result<usize, String>,
    ran: Option<Result<Duration, String>>,
}

#[test]
fn ractors_examples_build_and_run_on_ensemble_with_only_the_crate_renamed() {
    let examples = ractor_examples();
    let project = workspace().join("migration/ractor-examples");
    let renamed = project.join("renamed");
    std::fs::create_dir_all(&renamed).expect("create renamed/");
    for name in EXAMPLES {
        let source = std::fs::read_to_string(examples.join(format!("{name}.rs")))
            .unwrap_or_else(|e| panic!("read ractor's {name}.rs: {e}"));
        std::fs::write(renamed.join(format!("{name}.rs")), rename(&source))
            .expect("write the renamed example");
    }
    let target = workspace().join("target/ractor-examples");
    let mut outcomes = Vec::new();
    for name in EXAMPLES {
        let build = cargo()
            .args(["build", "--locked", "--bin", name, "--manifest-path"])
            .arg(project.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .expect("run cargo build");
        let log = String::from_utf8_lossy(&build.stderr).into_owned();
        let built = if build.status.success() {
            // Deprecation warnings name the Ensemble spelling of each ractor name used.
            Ok(log.matches("warning: use of deprecated").count())
        } else {
            Err(log)
        };
        let ran = built.is_ok().then(|| run(&target.join("debug").join(name)));
        outcomes.push(Outcome { name, built, ran });
    }
    println!("\nractor 0.16.5 examples on Ensemble (only `ractor` renamed):");
    println!("{:<24} {:<34} run", "example", "build");
    let mut failures = Vec::new();
    for o in &outcomes {
        let build = match &o.built {
            Ok(n) => format!("ok ({n} deprecation warnings)"),
            Err(_) => "does not compile".to_string(),
        };
        let run = match &o.ran {
            Some(Ok(took)) => format!("exit 0 in {:.1} s", took.as_secs_f64()),
            Some(Err(why)) => why.clone(),
            None => "-".to_string(),
        };
        println!("{:<24} {:<34} {}", o.name, build, run);
        match (&o.built, o.name == FLAT_REPLY.0) {
            (Err(log), true) if log.contains(FLAT_REPLY.1) => {}
            (Err(log), true) => failures.push(format!(
                "{}: expected to fail only on the flat reply, failed otherwise:\n{log}",
                o.name
            )),
            (Ok(_), true) => failures.push(format!(
                "{}: expected not to compile (it unwraps ractor's nested call result); it did",
                o.name
            )),
            (Err(log), false) => failures.push(format!("{}: does not compile:\n{log}", o.name)),
            (Ok(_), false) => {
                if let Some(Err(why)) = &o.ran {
                    failures.push(format!("{}: {why}", o.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one built example to its end (at most [`RUN_LIMIT`]).
fn run(binary: &Path) -> Result<Duration, String> {
    let keep = std::env::var_os("RACTOR_EXAMPLES_KEEP_OUTPUT").is_some();
    let quiet = || {
        if keep {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let start = Instant::now();
    let mut child = Command::new(binary)
        .stdout(quiet())
        .stderr(quiet())
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let pid = child.id();
    let (done, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    match exited.recv_timeout(RUN_LIMIT) {
        Ok(Ok(status)) if status.success() => Ok(start.elapsed()),
        Ok(Ok(status)) => Err(format!("exited with {status}")),
        Ok(Err(e)) => Err(format!("wait failed: {e}")),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Err(format!("still running after {RUN_LIMIT:?}; killed"))
        }
    }
}
