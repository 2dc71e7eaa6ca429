//! The observer in a real browser: the trading example runs with `--observe`, headless
//! Chromium (driven through chromedriver, the W3C WebDriver protocol) opens the page, and
//! the test reads the DOM: the supervision tree shows the supervisor and its children,
//! the message rate rises while the load runs, and the crashing child's restart count
//! goes up. It keeps a screenshot in `target/observer.png` (and, with
//! `ENSEMBLE_SCREENSHOT=path`, there too: `docs/observer.png` is made so).
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). Without them it writes a SKIP line and
//! passes.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

fn skip(why: &str) {
    // Past the test harness's capture, so that it shows in every run.
    let _ = writeln!(std::io::stderr(), "SKIP observer browser test: {why}");
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Kills a child process when dropped (every exit path of the test cleans up).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The trading example's binary (built by `cargo test`; built here if missing).
fn trading_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir
        .join("examples")
        .join(format!("trading{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "ensemble", "--example", "trading"])
            .status()
            .expect("cargo build")
            .success();
        assert!(ok, "building the trading example failed");
    }
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A minimal W3C WebDriver client.
struct Driver {
    base: String,
    agent: ureq::Agent,
}

impl Driver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(body)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            (_, None) => self.agent.post(&url).send_empty(),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            response.status().is_success(),
            "{method} {path}: {} {text}",
            response.status()
        );
        value["value"].clone()
    }
}

/// Reads the page's state: the tree's node names under the `trading` supervisor, the
/// total rate, and the risk manager's restart count.
const READ: &str = r#"
const sup = document.querySelector('details[data-name="trading"]');
const kids = sup ? Array.from(sup.querySelectorAll(':scope > details')).map(d => d.dataset.name) : [];
const risk = document.querySelector('details[data-name="risk-manager"]');
const rate = document.getElementById('rate');
return {
  live: document.getElementById('connection').dataset.state,
  supervisor: sup ? sup.dataset.type : null,
  children: kids,
  rate: rate ? parseFloat(rate.dataset.rate) : 0,
  riskRestarts: risk ? parseInt(risk.dataset.restarts, 10) : -1,
};
"#;

#[test]
fn the_page_shows_the_tree_a_rising_rate_and_restarts_in_headless_chromium() {
    let Some(chromium) = find(&["chromium", "chromium-browser", "google-chrome"]) else {
        return skip("no chromium on PATH (apt-get install chromium chromium-driver)");
    };
    let Some(chromedriver) = find(&["chromedriver"]) else {
        return skip("no chromedriver on PATH (apt-get install chromium-driver)");
    };

    // The example, with the observer on a free port.
    let mut trading = Command::new(trading_binary())
        .args(["--observe", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the trading example");
    let stdout = trading.stdout.take().expect("stdout");
    let trading = Killed(trading);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("observer: ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the example prints the observer's address");

    // chromedriver, then a headless Chromium session with a fresh profile, offline.
    let port = free_port();
    let driver_process = Killed(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let driver = Driver {
        base: format!("http://127.0.0.1:{port}"),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if driver
            .agent
            .get(format!("{}/status", driver.base))
            .call()
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile =
        std::env::temp_dir().join(format!("ensemble-observer-chromium-{}", std::process::id()));
    let session = driver.call(
        "POST",
        "/session",
        Some(
            json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1400,1100",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }}}}),
        ),
    );
    let id = session["sessionId"]
        .as_str()
        .expect("a session id")
        .to_string();
    driver.call(
        "POST",
        &format!("/session/{id}/url"),
        Some(json!({ "url": url })),
    );
    let read = || {
        driver.call(
            "POST",
            &format!("/session/{id}/execute/sync"),
            Some(json!({ "script": READ, "args": [] })),
        )
    };

    // The tree: the supervisor and its four children.
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let state = read();
        let mut kids: Vec<String> = state["children"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        kids.sort();
        if state["live"] == "live"
            && kids == ["executor", "market-feed", "order-book", "risk-manager"]
        {
            assert_eq!(state["supervisor"], "Supervisor");
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "the tree never showed the supervisor's children: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The message rate rises while the load runs, and the risk manager's restart count
    // goes up (a malformed order crashes it every 3 s).
    let restarts_before = first["riskRestarts"].as_i64().unwrap_or(-1);
    assert!(restarts_before >= 0, "{first}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut rate_seen, mut restarted) = (0.0, false);
    while !(rate_seen > 0.0 && restarted) {
        let state = read();
        rate_seen = f64::max(rate_seen, state["rate"].as_f64().unwrap_or(0.0));
        restarted |= state["riskRestarts"].as_i64().unwrap_or(-1) > restarts_before;
        assert!(
            Instant::now() < deadline,
            "rate {rate_seen}, restarts still {restarts_before}: {state}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("rate seen {rate_seen:.0} msg/s; restarts went past {restarts_before}");

    // A screenshot for the docs.
    let png = driver.call("GET", &format!("/session/{id}/screenshot"), None);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap_or(""))
        .expect("a base64 screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target dir")
        .join("observer.png");
    std::fs::write(&target, &bytes).expect("write the screenshot");
    if let Some(path) = std::env::var_os("ENSEMBLE_SCREENSHOT") {
        std::fs::write(path, &bytes).expect("write the screenshot");
    }
    driver.call("DELETE", &format!("/session/{id}"), None);
    let _ = std::fs::remove_dir_all(&profile);
    drop((driver_process, trading));
}
