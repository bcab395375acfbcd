//! `cargo xtask test`: every suite, with one closing line `N passed, N failed`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{command, repo_root, run, setup, step};

/// Passed and failed test counts, summed over suites.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
}

/// The counts of a libtest or wasm-bindgen-test summary line, e.g.
/// `test result: ok. 15 passed; 0 failed; 0 ignored; ...`.
fn parse_summary(line: &str) -> Option<Tally> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<u64> {
        let words: Vec<&str> = rest.split(|c: char| c == ' ' || c == ';' || c == '.').filter(|w| !w.is_empty()).collect();
        let i = words.iter().position(|w| *w == word)?;
        words.get(i.checked_sub(1)?)?.parse().ok()
    };
    Some(Tally { passed: number_before("passed")?, failed: number_before("failed")? })
}

/// Runs one suite, echoing its output and summing its summary lines. A suite that fails
/// without reporting a failed test (a build error, a crash) counts as one failure.
fn suite(name: &str, command: &mut Command, tally: &mut Tally) {
    step(name);
    let child = command.stdout(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            println!("    could not start: {e}");
            tally.failed += 1;
            return;
        }
    };
    let mut own = Tally::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(t) = parse_summary(&line) {
                own.passed += t.passed;
                own.failed += t.failed;
            }
        }
    }
    let success = child.wait().is_ok_and(|s| s.success());
    if !success && own.failed == 0 {
        println!("    {name}: failed without a test failure (build error or crash): counted as one failure");
        own.failed = 1;
    }
    tally.passed += own.passed;
    tally.failed += own.failed;
}

/// Installs what is missing, builds the app, runs every suite, prints the closing line and
/// fails if anything failed.
pub fn run_all() -> Result<(), String> {
    setup::ensure_tools(true)?;
    step("Building the app with Trunk (release) into dist/ for the end-to-end tests");
    run(command("trunk").args(["build", "--offline", "--release"]), "trunk build")?;

    let mut tally = Tally::default();
    suite(
        "Native tests: pkce, flow, stand-in, companion (unit, property, router)",
        command("cargo").args(["test", "--workspace", "--exclude", "app", "--exclude", "e2e"]),
        &mut tally,
    );
    suite(
        "WASM tests in headless Chromium: pkce and app components",
        command("cargo")
            .args(["test", "--target", "wasm32-unknown-unknown", "-p", "pkce", "-p", "app"])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        &mut tally,
    );
    suite(
        "End-to-end tests in headless Chromium against the companion and the stand-in",
        command("cargo")
            .args(["test", "-p", "e2e", "--", "--test-threads=2"])
            .env("WALKTHROUGH_DIST", repo_root().join("dist")),
        &mut tally,
    );
    println!("\n{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 { Ok(()) } else { Err(format!("{} test(s) failed", tally.failed)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_of_libtest_and_wasm_bindgen_test_are_counted() {
        assert_eq!(
            parse_summary("test result: ok. 15 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.25s"),
            Some(Tally { passed: 15, failed: 0 })
        );
        assert_eq!(
            parse_summary("test result: FAILED. 9 passed; 1 failed; 0 ignored; 0 filtered out; finished in 0.02s"),
            Some(Tally { passed: 9, failed: 1 })
        );
        assert_eq!(parse_summary("running 2 tests"), None);
    }
}
