//! Brings the user guide (`docs/guide/*.md`) and the runtime contract
//! (`docs/SEMANTICS.md`) into the crate's rustdoc, so that `cargo doc` is the whole
//! manual and every example in it runs as a doctest.
//!
//! The pages are written for GitHub, with relative links between the markdown files;
//! here each such link becomes an intra-doc link to the page's module (`actors.md#x` ->
//! `crate::guide::actors#x`, `../SEMANTICS.md` -> `crate::semantics`). The rewritten
//! pages go to `OUT_DIR`, from where `src/lib.rs` includes them. Outside the repository
//! (a packaged crate has no `docs/` beside it) each page says where to read it instead.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// (source under `docs/`, module path the page becomes).
const PAGES: &[(&str, &str)] = &[
    ("SEMANTICS.md", "crate::semantics"),
    ("benchmarks.md", "crate::guide::benchmarks"),
    ("guide/README.md", "crate::guide"),
    ("guide/actors.md", "crate::guide::actors"),
    ("guide/call-and-cast.md", "crate::guide::call_and_cast"),
    (
        "guide/errors-and-panics.md",
        "crate::guide::errors_and_panics",
    ),
    ("guide/links.md", "crate::guide::links"),
    ("guide/registry.md", "crate::guide::registry"),
    ("guide/supervision.md", "crate::guide::supervision"),
    ("guide/mailboxes.md", "crate::guide::mailboxes"),
    (
        "guide/groups-and-pools.md",
        "crate::guide::groups_and_pools",
    ),
    ("guide/applications.md", "crate::guide::applications"),
    ("guide/performance.md", "crate::guide::performance"),
    ("guide/observability.md", "crate::guide::observability"),
    ("guide/testing.md", "crate::guide::testing"),
    (
        "guide/migrating-from-ractor.md",
        "crate::guide::migrating_from_ractor",
    ),
];

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let docs = manifest.join("..").join("docs");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("docs");
    println!("cargo:rerun-if-changed=build.rs");
    for (page, _) in PAGES {
        let src = docs.join(page);
        println!("cargo:rerun-if-changed={}", src.display());
        let text = match fs::read_to_string(&src) {
            Ok(text) => rewrite_links(&text, page),
            Err(_) => format!(
                "This page is `docs/{page}` in Ensemble's repository; this copy of the \
                 crate was built without it.\n"
            ),
        };
        let dst = out.join(page);
        if let Some(dir) = dst.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        fs::write(&dst, text).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
    }
}

/// The module a relative link from page `from` to `target` (`x.md`, `../x.md`,
/// `x.md#anchor`) points at, if it is one of the pages.
fn module_for(from: &str, target: &str) -> Option<String> {
    let (file, anchor) = match target.split_once('#') {
        Some((file, anchor)) => (file, Some(anchor)),
        None => (target, None),
    };
    if !file.ends_with(".md") || file.contains("://") {
        return None;
    }
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut resolved = PathBuf::new();
    for part in base.join(file).components() {
        match part {
            std::path::Component::ParentDir => {
                resolved.pop();
            }
            std::path::Component::Normal(p) => resolved.push(p),
            _ => {}
        }
    }
    let resolved = resolved.to_string_lossy().replace('\\', "/");
    let module = PAGES
        .iter()
        .find(|(page, _)| *page == resolved)
        .map(|(_, module)| *module)?;
    Some(match anchor {
        Some(a) => format!("{module}#{a}"),
        None => module.to_string(),
    })
}

/// Rewrites every markdown link `](target)` that points at another page.
fn rewrite_links(text: &str, from: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        match module_for(from, target) {
            Some(module) => out.push_str(&module),
            // The cluster chapter is ensemble-cluster's documentation.
            None if target.starts_with("cluster.md") => out.push_str(&target.replacen(
                "cluster.md",
                "https://docs.rs/ensemble-cluster/latest/ensemble_cluster/guide/index.html",
                1,
            )),
            None => out.push_str(target),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
