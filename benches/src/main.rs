//! `cargo run --release -p ensemble-benches -- [all] [--quick] [SCENARIO...]`

use std::process::Command;
use std::time::Duration;

use ensemble_benches::Sample;
use ensemble_benches::adapters::{self, Adapter};
use ensemble_benches::report::{self, Results};
use ensemble_benches::scenarios::{self, Scenario};

const HELP: &str = "ensemble-benches: Ensemble side by side with raw tokio (and peers), same work, results checked

USAGE: cargo run --release -p ensemble-benches -- [all | SCENARIO...] [--quick] [--reps N] [--only A,B] [--in-process] [--write]

  all        every scenario (the default)
  SCENARIO   one or more of: cast cast-ct cast-task cast-task-ct call call-ct call-block
             call-block-ct spawn-stop spawn-stop-ct idle-memory
             fan-in fan-in-ct ring ring-ct ring-pinned bounded bounded-task bounded-pinned
             counter-system, and the Savina
             suite: savina-pingpong savina-count savina-fjthrput savina-threadring
             savina-chameneos savina-big
  --quick    1% of the work, 1 repetition: a smoke run
  --reps N   repetitions (default 5); implementations are interleaved within each
  --only A,B only these implementations (tokio ensemble ractor kameo actix), to compare
             two quickly; a full table needs all of them
  --in-process  run every sample in this process (for profilers); by default each
             sample runs in a fresh child process, so no implementation inherits another's
             threads, heap or caches
  --write    write docs/benchmarks.md and docs/benchmarks.svg from this run";

/// Measures idle memory in a fresh process, so earlier rows do not skew the RSS.
fn idle_in_child(adapter: &dyn Adapter, n: u64) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args(["--idle-child", adapter.name(), &n.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        panic!(
            "idle-memory child for {} failed: {}",
            adapter.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

type Measured = Option<(Sample, Option<(f64, f64)>)>;

/// Runs one sample in a fresh child process (`--sample`), so that no implementation runs
/// on a heap, page cache or leftover threads another one left behind.
fn sample_in_child(scenario: Scenario, adapter: &dyn Adapter, scale: f64) -> Measured {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("own path: {e}"));
    let out = Command::new(exe)
        .args([
            "--sample",
            scenario.name,
            adapter.name(),
            &scale.to_string(),
        ])
        .output()
        .unwrap_or_else(|e| panic!("starting a sample child: {e}"));
    if !out.status.success() {
        panic!(
            "{} / {} failed: {}",
            scenario.name,
            adapter.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let sample = match (text.split_whitespace().next(), fields.first()) {
        (Some("seconds"), Some(&v)) => Sample::Time(Duration::from_secs_f64(v)),
        (Some("bytes"), Some(&v)) => Sample::Bytes(v),
        _ => return None,
    };
    let lat = (fields.len() == 3).then(|| (fields[1], fields[2]));
    Some((sample, lat))
}

/// The child side of [`sample_in_child`]: one line, `seconds|bytes VALUE [P50 P99]`, or
/// `none` where the implementation lacks the feature.
fn print_sample(args: &[String]) {
    let scenario =
        scenarios::by_name(&args[0]).unwrap_or_else(|| panic!("no scenario {}", args[0]));
    let adapter = adapters::by_name(&args[1]).unwrap_or_else(|| panic!("no adapter {}", args[1]));
    let scale: f64 = args[2].parse().unwrap_or(1.0);
    let idle = |a: &dyn Adapter, n: u64| a.idle_bytes(n);
    match scenarios::run(scenario, adapter, scale, &idle) {
        None => println!("none"),
        Some((sample, lat)) => {
            let (kind, value) = match sample {
                Sample::Time(d) => ("seconds", d.as_secs_f64()),
                Sample::Bytes(b) => ("bytes", b),
            };
            match lat {
                Some((p50, p99)) => println!("{kind} {value} {p50} {p99}"),
                None => println!("{kind} {value}"),
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--sample") {
        if args.len() < i + 4 {
            eprintln!("--sample SCENARIO IMPL SCALE");
            std::process::exit(2);
        }
        print_sample(&args[i + 1..i + 4]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--idle-child") {
        let name = &args[i + 1];
        let n: u64 = args[i + 2].parse().unwrap_or(100_000);
        let adapter = adapters::by_name(name).unwrap_or_else(|| panic!("no adapter {name}"));
        println!("{}", adapter.idle_bytes(n).unwrap_or(f64::NAN));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let in_process = args.iter().any(|a| a == "--in-process");
    let write = args.iter().any(|a| a == "--write");
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let named: Vec<Scenario> = args.iter().filter_map(|a| scenarios::by_name(a)).collect();
    let chosen: Vec<Scenario> = if named.is_empty() {
        scenarios::ALL.to_vec()
    } else {
        named
    };
    let scale = if quick { 0.01 } else { 1.0 };
    let only: Option<Vec<&str>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').collect());
    if write && only.is_some() {
        eprintln!("--write needs every implementation: drop --only");
        std::process::exit(2);
    }
    let impls: Vec<_> = adapters::all()
        .into_iter()
        .filter(|a| only.as_ref().is_none_or(|o| o.contains(&a.name())))
        .collect();
    let names: Vec<&'static str> = impls.iter().map(|a| a.name()).collect();

    let mut results = Results::new();
    for s in &chosen {
        eprintln!(
            "== {} ({}), {} repetition(s)",
            s.name,
            s.flavor.label(),
            reps
        );
        for rep in 0..reps {
            for adapter in &impls {
                let measured = if in_process {
                    scenarios::run(*s, *adapter, scale, &idle_in_child)
                } else {
                    sample_in_child(*s, *adapter, scale)
                };
                if let Some((sample, lat)) = measured {
                    results
                        .entry(s.name)
                        .or_default()
                        .entry(adapter.name())
                        .or_default()
                        .push(sample, lat);
                    eprintln!("   rep {} {:>9}: {}", rep + 1, adapter.name(), sample);
                }
            }
        }
    }
    let table = report::table(&chosen, &results, &names);
    println!("{table}");
    if write {
        let machine = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_default();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0);
        let versions = versions();
        let reps_flag = if reps == 5 {
            String::new()
        } else {
            format!("--reps {reps} ")
        };
        let doc = format!(
            "# Benchmarks\n\nProduced by `cargo run --release -p ensemble-benches -- all {reps_flag}--write` \
             ({reps} repetitions, implementations interleaved within each, every sample in a fresh \
             process; medians, with min and max).\n\n\
             Versions: {versions}.\n\n\
             Machine: {machine}, {cores} cores. Lower is better everywhere; `vs tokio` is the ratio of \
             the median to raw tokio's (a task owning its state behind an mpsc channel).\n\n{table}\n\
             The `savina-*` rows are six programs of the Savina actor benchmark suite (Imam and \
             Sarkar, AGERE 2014) with the paper's parameters (`benches/src/savina/mod.rs`), on the \
             multi-thread runtime with 2 workers, so they can be set beside published Akka, CAF and \
             Pony runs of the same programs.\n\n\
             ![ratios to raw tokio](benchmarks.svg)\n"
        );
        // Two sections are not produced by this run, so a rewrite keeps them: the notes
        // on the rows that miss (written by hand from profiles) and the cluster section
        // (written by `ensemble-cluster-benches`).
        let old = std::fs::read_to_string("docs/benchmarks.md").unwrap_or_default();
        let mut doc = doc;
        for tag in ["notes", "cluster"] {
            if let Some(section) = kept_section(&old, tag) {
                doc = format!("{doc}\n{section}\n");
            }
        }
        std::fs::write("docs/benchmarks.md", doc)
            .unwrap_or_else(|e| panic!("writing docs/benchmarks.md: {e}"));
        std::fs::write(
            "docs/benchmarks.svg",
            report::chart(&chosen, &results, &names),
        )
        .unwrap_or_else(|e| panic!("writing docs/benchmarks.svg: {e}"));
        eprintln!("wrote docs/benchmarks.md and docs/benchmarks.svg");
    }
}

/// The `<!-- TAG:begin -->` … `<!-- TAG:end -->` section of `doc`, markers included.
fn kept_section<'a>(doc: &'a str, tag: &str) -> Option<&'a str> {
    let (begin, end) = (
        format!("<!-- {tag}:begin -->"),
        format!("<!-- {tag}:end -->"),
    );
    let a = doc.find(&begin)?;
    let b = doc[a..].find(&end)? + a;
    Some(&doc[a..b + end.len()])
}

/// The compiler and the compared crates' versions, as locked in `Cargo.lock`.
fn versions() -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let locked = |name: &str| {
        let entry = format!("name = \"{name}\"\nversion = \"");
        lock.find(&entry)
            .and_then(|at| lock[at + entry.len()..].split('"').next())
            .map_or_else(|| format!("{name} ?"), |v| format!("{name} {v}"))
    };
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc ?".into());
    let crates: Vec<String> = ["ensemble", "tokio", "ractor", "kameo", "actix", "actix-rt"]
        .iter()
        .map(|n| locked(n))
        .collect();
    format!("{}; {rustc}", crates.join(", "))
}
