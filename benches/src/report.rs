//! Aggregating repetitions and printing the table and the chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::Sample;
use crate::scenarios::Scenario;

/// Every sample of one (scenario, implementation) cell.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    /// One value per repetition (seconds or bytes).
    pub values: Vec<f64>,
    /// (p50, p99) latency in microseconds, per repetition, where measured.
    pub latency: Vec<(f64, f64)>,
    /// Whether the values are bytes.
    pub bytes: bool,
}

impl Cell {
    /// Adds one repetition.
    pub fn push(&mut self, sample: Sample, latency: Option<(f64, f64)>) {
        self.bytes = matches!(sample, Sample::Bytes(_));
        self.values.push(sample.value());
        self.latency.extend(latency);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The median value.
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }

    fn fmt(&self, v: f64) -> String {
        if self.bytes {
            format!("{v:.0} B")
        } else {
            format!("{:.1} ms", v * 1e3)
        }
    }
}

/// All results: scenario name → implementation → cell.
pub type Results = BTreeMap<&'static str, BTreeMap<&'static str, Cell>>;

/// The markdown table, with each row's ratio to raw tokio and Ensemble's to the best
/// peer (lower is better: time or bytes).
pub fn table(scenarios: &[Scenario], results: &Results, impls: &[&'static str]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | runtime | impl | median | min | max | p50 / p99 | vs tokio | ensemble vs best peer |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for s in scenarios {
        let Some(row) = results.get(s.name) else {
            continue;
        };
        let tokio = row.get("tokio").map(Cell::median);
        let best_peer = row
            .iter()
            .filter(|(k, _)| !matches!(**k, "tokio" | "ensemble"))
            .map(|(_, c)| c.median())
            .fold(f64::NAN, f64::min);
        for name in impls {
            let Some(cell) = row.get(name) else { continue };
            let v = cell.sorted();
            let (min, max) = (v[0], v[v.len() - 1]);
            let lat = if cell.latency.is_empty() {
                String::from("")
            } else {
                let mut l = cell.latency.clone();
                l.sort_by(|a, b| a.0.total_cmp(&b.0));
                let (p50, p99) = l[l.len() / 2];
                format!("{p50:.1} / {p99:.1} µs")
            };
            let vs_tokio = tokio
                .map(|t| format!("{:.2}x", cell.median() / t))
                .unwrap_or_default();
            let vs_peer = match (*name, best_peer.is_finite()) {
                ("ensemble", true) => format!("{:.2}x", cell.median() / best_peer),
                // `--only` without a peer, or a row no peer supports.
                ("ensemble", false) => String::from("no peer in this run"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.name,
                s.flavor.label(),
                name,
                cell.fmt(cell.median()),
                cell.fmt(min),
                cell.fmt(max),
                lat,
                vs_tokio,
                vs_peer
            );
        }
    }
    out
}

/// A bar chart (SVG) of each implementation's median relative to raw tokio, per scenario
/// (lower is better; 1.0 is raw tokio).
pub fn chart(scenarios: &[Scenario], results: &Results, impls: &[&'static str]) -> String {
    let colors = ["#888888", "#2b7bb9", "#d95f02", "#7570b3", "#1b9e77"];
    let (bar, gap, left, top) = (14.0, 10.0, 130.0, 30.0);
    let group = bar * impls.len() as f64 + gap;
    let height = top + group * scenarios.len() as f64 + 40.0;
    let width = 760.0;
    let scale = 120.0; // px per 1.0x
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <text x=\"{left}\" y=\"16\" font-size=\"13\">time or bytes relative to raw tokio (lower is better)</text>\n"
    );
    let x1 = left + scale;
    let _ = writeln!(
        svg,
        "<line x1=\"{x1}\" y1=\"{top}\" x2=\"{x1}\" y2=\"{}\" stroke=\"#000\" stroke-dasharray=\"3,3\"/>",
        height - 30.0
    );
    for (i, s) in scenarios.iter().enumerate() {
        let Some(row) = results.get(s.name) else {
            continue;
        };
        let Some(t) = row.get("tokio").map(Cell::median) else {
            continue;
        };
        let y0 = top + group * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\">{}</text>",
            y0 + group / 2.0,
            s.name
        );
        for (j, name) in impls.iter().enumerate() {
            let Some(c) = row.get(name) else { continue };
            let ratio = c.median() / t;
            let w = (ratio * scale).min(width - left - 60.0);
            let y = y0 + bar * j as f64;
            let _ = writeln!(
                svg,
                "<rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{}\">{ratio:.2}x</text>",
                bar - 2.0,
                colors[j % colors.len()],
                left + w + 4.0,
                y + bar - 4.0
            );
        }
    }
    for (j, name) in impls.iter().enumerate() {
        let x = left + 110.0 * j as f64;
        let y = height - 12.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\">{name}</text>",
            y - 9.0,
            colors[j % colors.len()],
            x + 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
