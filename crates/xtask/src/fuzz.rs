//! The cargo-fuzz targets in `fuzz/`: a bounded run in `cargo xtask test`, a longer one with
//! `cargo xtask fuzz [seconds per target]`. cargo-fuzz needs nightly flags; `RUSTC_BOOTSTRAP=1`
//! lets the stable toolchain take them. The sanitizer is off: the code under test is safe Rust,
//! and the point is panics and broken invariants, found faster without it.

use std::process::Command;

use crate::{command, repo_root, setup, step};

/// Each target and what it exercises.
pub const TARGETS: [(&str, &str); 3] = [
    ("callback", "fuzzed callback queries (`flow::check_callback`)"),
    (
        "authorize_url",
        "fuzzed authorize-URL fields (`flow::AuthorizeRequest::url`)",
    ),
    (
        "companion_request",
        "fuzzed companion requests: proxy path and query, JSON bodies, write rules",
    ),
];

/// `cargo fuzz run` for `target`, for at most `seconds`, with the committed seeds.
fn fuzz_command(target: &str, seconds: u64) -> Command {
    let corpus = repo_root().join("target/fuzz-corpus").join(target);
    let _ = std::fs::create_dir_all(&corpus);
    let mut cmd = command("cargo");
    cmd.current_dir(repo_root().join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--sanitizer", "none", target])
        .arg(&corpus)
        .arg(format!("seeds/{target}"))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"));
    cmd
}

/// Runs every target for `seconds` each; the targets that found a failure (their inputs are
/// in `fuzz/artifacts/`).
pub fn run(seconds: u64) -> Result<Vec<&'static str>, String> {
    setup::ensure_cargo_fuzz()?;
    let mut failed = Vec::new();
    for (target, what) in TARGETS {
        step(&format!("Fuzzing {what} for {seconds} s"));
        let status = fuzz_command(target, seconds)
            .status()
            .map_err(|e| format!("cargo fuzz: {e}"))?;
        if !status.success() {
            println!("    {target}: the failing input is in fuzz/artifacts/{target}/");
            failed.push(target);
        }
    }
    Ok(failed)
}
