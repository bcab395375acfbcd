//! `cargo xtask test`: every suite, with one closing line `N passed, N failed`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{
    attack_list, bundlers, command, doc_sites, fuzz, image, pkce_package, repo_root, setup, step, vite_example,
    wasm_release,
};

/// Seconds each fuzz target runs in the test command (`cargo xtask fuzz` runs longer).
const FUZZ_SECONDS: u64 = 15;

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
        let words: Vec<&str> = rest.split([' ', ';', '.']).filter(|w| !w.is_empty()).collect();
        let i = words.iter().position(|w| *w == word)?;
        words.get(i.checked_sub(1)?)?.parse().ok()
    };
    Some(Tally {
        passed: number_before("passed")?,
        failed: number_before("failed")?,
    })
}

/// The browser engines the end-to-end tests run in: each such test is `<engine>::<name>`.
const ENGINES: [&str; 3] = ["chromium", "firefox", "webkit"];

/// The engine and outcome of one libtest result line of an engine's test, e.g.
/// `test firefox::local_flow_completes ... ok`: (engine, passed).
fn parse_engine_result(line: &str) -> Option<(&'static str, bool)> {
    let rest = line.strip_prefix("test ")?;
    let engine = ENGINES
        .into_iter()
        .find(|engine| rest.strip_prefix(engine).is_some_and(|after| after.starts_with("::")))?;
    if rest.ends_with(" ... ok") {
        Some((engine, true))
    } else if rest.ends_with(" ... FAILED") {
        Some((engine, false))
    } else {
        None
    }
}

/// The counts of node's test runner (TAP reporter): `# pass N` and `# fail N` lines.
fn parse_node_summary(line: &str) -> Option<Tally> {
    let number = |prefix: &str| line.strip_prefix(prefix).and_then(|n| n.trim().parse().ok());
    if let Some(passed) = number("# pass ") {
        return Some(Tally { passed, failed: 0 });
    }
    number("# fail ").map(|failed| Tally { passed: 0, failed })
}

/// Runs one suite, echoing its output and summing its summary lines. A suite that fails
/// without reporting a failed test (a build error, a crash) counts as one failure.
fn suite(name: &str, command: &mut Command, tally: &mut Tally) {
    suite_by_engine(name, command, tally, &mut [Tally::default(); 3]);
}

/// [`suite`], also counting each engine's tests in `engines` (in [`ENGINES`]' order).
fn suite_by_engine(name: &str, command: &mut Command, tally: &mut Tally, engines: &mut [Tally; 3]) {
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
            if let Some(t) = parse_summary(&line).or_else(|| parse_node_summary(&line)) {
                own.passed += t.passed;
                own.failed += t.failed;
            }
            if let Some((engine, passed)) = parse_engine_result(&line)
                && let Some(i) = ENGINES.iter().position(|e| *e == engine)
            {
                if passed {
                    engines[i].passed += 1;
                } else {
                    engines[i].failed += 1;
                }
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
    crate::progress::begin("test");
    warn_if_disk_is_short();
    setup::ensure_tools(true)?;
    setup::use_repository_hooks();
    wasm_release::build_app()?;
    let package = pkce_package::build()?;
    let _ = std::fs::remove_dir_all(attack_list::cases_dir());

    let mut tally = Tally::default();
    step("Formatting: cargo fmt --all --check (rustfmt.toml)");
    count(
        &mut tally,
        crate::run(command("cargo").args(["fmt", "--all", "--check"]), "cargo fmt --check"),
    );
    step("Lints: cargo clippy --workspace --all-targets -- -D warnings (allowed lints named in Cargo.toml)");
    count(
        &mut tally,
        crate::run(
            command("cargo").args([
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
            "cargo clippy",
        ),
    );
    // Counted: a README example that a default Vite project refuses to build is a failure.
    count(&mut tally, vite_example::build());
    // Counted: the tarball installs and bundles with webpack 5, esbuild and Rollup, passes
    // publint and @arethetypeswrong/cli, and imports in Node as an ES module.
    count(&mut tally, bundlers::build());
    // Counted: an embedding-guide snippet that does not build into a page is a failure.
    count(&mut tally, doc_sites::build());
    suite(
        "Native tests: pkce, flow, stand-in, companion (unit, property, router)",
        // --show-output: the load test prints its requests per second and latencies.
        command("cargo").args([
            "test",
            "--workspace",
            "--no-fail-fast",
            "--exclude",
            "app",
            "--exclude",
            "e2e",
            "--",
            "--show-output",
        ]),
        &mut tally,
    );
    // wasm-bindgen-test-runner's Chromium leaves a profile (~60 MB) in TMPDIR each time: a
    // folder of the run's own, removed after it.
    let browser_tmp = repo_root().join("target/wasm-tests-tmp");
    let _ = std::fs::create_dir_all(&browser_tmp);
    suite(
        "WASM tests in headless Chromium: pkce and app components",
        command("cargo")
            .args(["test", "--target", "wasm32-unknown-unknown", "-p", "pkce", "-p", "app"])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("TMPDIR", &browser_tmp),
        &mut tally,
    );
    let _ = std::fs::remove_dir_all(&browser_tmp);
    suite(
        "The npm package in Node 20+ (node --test), against Node's crypto",
        command("node")
            .args(["--test", "--test-reporter=tap", "crates/pkce-js/tests/package.test.mjs"])
            .env("PKCE_PACKAGE", pkce_package::out_dir()),
        &mut tally,
    );
    step("The development loop: Trunk builds the app from the same clone (trunk build --offline, debug)");
    count(
        &mut tally,
        setup::ensure_trunk()
            .and_then(|()| crate::run(command("trunk").args(["build", "--offline"]), "trunk build --offline")),
    );
    // The container image the image test runs (the app above, a static companion, podman). Its
    // static companion is the production build (no stand-in inside): the replicas of the replica
    // tests run it too, against a stand-in of their own.
    let image = image::build_from_dist();
    if let Err(e) = &image {
        println!("    FAILED: {e}");
        tally.failed += 1;
    }
    let companion_bin = Some(image::static_companion_bin()).filter(|bin| bin.is_file());
    let mut engines = [Tally::default(); 3];
    suite_by_engine(
        "End-to-end tests: the walkthrough in Chromium, Firefox ESR and WebKitGTK (on its own pages and framed by documentation pages of another site), the package against WebCrypto, its README examples under Vite, three companion replicas on Redis, their operation behind HAProxy, the container image",
        command("cargo")
            // Every suite runs even after one fails, so the count names every failure.
            .args(["test", "-p", "e2e", "--no-fail-fast", "--", "--test-threads=2"])
            .env("COMPANION_BIN", companion_bin.unwrap_or_default())
            .env("WALKTHROUGH_IMAGE", if image.is_ok() { image::IMAGE } else { "" })
            .env("WALKTHROUGH_DIST", repo_root().join("dist"))
            .env("PKCE_PACKAGE", pkce_package::out_dir())
            .env("PKCE_VITE_EXAMPLE", vite_example::dist_dir())
            .env("PKCE_BUNDLES", bundlers::dist_dir())
            .env("DOC_SITES", doc_sites::dist_dir())
            .env("GECKODRIVER", setup::geckodriver_path())
            // Everything they need was built and installed above: a missing piece fails.
            .env("E2E_REQUIRE_ALL", "1"),
        &mut tally,
        &mut engines,
    );
    step("The production companion (the static build above) holds no stand-in code (cargo tree)");
    count(&mut tally, production_companion_has_no_stand_in());
    fuzz_suite(&mut tally);
    step("The attack-case list in docs/attacks.md matches what the tests recorded");
    count(&mut tally, attack_list::check_page());
    println!("\nPKCE package size: {} B gzipped (.wasm + .js)", package.gzipped);
    let by_engine: Vec<String> = ENGINES
        .iter()
        .zip(engines)
        .map(|(engine, counted)| format!("{engine} {} passed, {} failed", counted.passed, counted.failed))
        .collect();
    println!("End-to-end tests by engine: {}", by_engine.join("; "));
    crate::progress::finish();
    println!("\n{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} test(s) failed", tally.failed))
    }
}

/// What a first run writes under `target/` and the cargo home together, measured by
/// `cargo xtask fresh-check` (about 9.3 GB), with room to spare.
const FIRST_RUN_DISK_BYTES: u64 = 12_000_000_000;

/// Says so up front when the disk holding `target/` has less room than a first run writes:
/// otherwise the run ends in cargo's "No space left on device" halfway through. A warning, not a
/// refusal: a run over an existing `target/` writes far less.
fn warn_if_disk_is_short() {
    let Some(free) = free_disk_bytes(&repo_root()) else {
        return;
    };
    if free < FIRST_RUN_DISK_BYTES {
        println!(
            "warning: disk_short: {:.1} GB free where target/ is built; a first run writes about {:.0} GB \
             (`cargo clean` or removing old clones frees it)",
            free as f64 / 1e9,
            FIRST_RUN_DISK_BYTES as f64 / 1e9
        );
    }
}

/// The bytes free on the file system holding `path`, from `df -Pk` (POSIX output).
fn free_disk_bytes(path: &std::path::Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    available_kib(&String::from_utf8_lossy(&out.stdout)).map(|kib| kib * 1024)
}

/// The "Available" column (KiB) of `df -Pk`'s one data line.
fn available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// `cargo tree` of the production companion (`--no-default-features`, as
/// [`crate::production_build`] builds it) names no `stand-in` among its dependencies.
fn production_companion_has_no_stand_in() -> Result<(), String> {
    let tree = command("cargo")
        .args([
            "tree",
            "-p",
            "companion",
            "--no-default-features",
            "--edges",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .map_err(|e| format!("cargo tree: {e}"))?;
    let listed = String::from_utf8_lossy(&tree.stdout).into_owned();
    if !tree.status.success() || !listed.contains("companion v") {
        return Err("cargo tree -p companion failed".to_owned());
    }
    match listed.lines().find(|line| line.starts_with("stand-in ")) {
        Some(line) => Err(format!("the production companion depends on {line}")),
        None => Ok(()),
    }
}

/// One check counted as a test: passed, or failed with its reason printed.
fn count(tally: &mut Tally, result: Result<(), String>) {
    match result {
        Ok(()) => {
            println!("    ok");
            tally.passed += 1;
        }
        Err(e) => {
            println!("    FAILED: {e}");
            tally.failed += 1;
        }
    }
}

/// Every fuzz target for [`FUZZ_SECONDS`], each counted as a test and recorded as a case.
fn fuzz_suite(tally: &mut Tally) {
    let failed = match fuzz::run(FUZZ_SECONDS) {
        Ok(failed) => failed,
        Err(e) => return count(tally, Err(e)),
    };
    for (target, what) in fuzz::TARGETS {
        if failed.contains(&target) {
            count(tally, Err(format!("fuzz target {target} found a failing input")));
            continue;
        }
        let outcome = format!(
            "no panic, every invariant held ({FUZZ_SECONDS} s per target here; `cargo xtask fuzz` runs longer)"
        );
        count(
            tally,
            attack_cases::record("Fuzzing", what, &outcome).map_err(|e| e.to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commit-msg hook's verdict on `message` (as git hands it over: a file).
    fn commit_hook_accepts(message: &str) -> bool {
        let file = std::env::temp_dir().join(format!("commit-msg-test-{}-{}", std::process::id(), message.len()));
        std::fs::write(&file, message).unwrap();
        let status = Command::new("sh")
            .arg(repo_root().join(setup::HOOKS_DIR).join("commit-msg"))
            .arg(&file)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        status.success()
    }

    #[test]
    fn the_commit_hook_holds_contributings_rule() {
        assert!(commit_hook_accepts(
            "Short subject\n\nWhy it was needed.\n# a comment git drops\n"
        ));
        let seventy_two = "é".repeat(72);
        assert!(commit_hook_accepts(&format!(
            "{seventy_two}\n\nCharacters, not bytes, count.\n"
        )));
        assert!(!commit_hook_accepts(&format!("{seventy_two}x\n\nOne too many.\n")));
        assert!(!commit_hook_accepts("Fix this; and that\n\nTwo concerns.\n"));
        assert!(!commit_hook_accepts("Subject\nno blank line\n"));
        assert!(!commit_hook_accepts("Subject only\n"));
        assert!(!commit_hook_accepts("# only a comment\n"));
    }

    #[test]
    fn the_available_column_of_posix_df_output_is_read() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 44040192  52428800      46% /\n";
        assert_eq!(available_kib(df), Some(52_428_800));
        assert_eq!(available_kib("df: /nowhere: No such file or directory\n"), None);
    }

    #[test]
    fn summary_lines_of_libtest_and_wasm_bindgen_test_are_counted() {
        assert_eq!(
            parse_summary(
                "test result: ok. 15 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.25s"
            ),
            Some(Tally { passed: 15, failed: 0 })
        );
        assert_eq!(
            parse_summary("test result: FAILED. 9 passed; 1 failed; 0 ignored; 0 filtered out; finished in 0.02s"),
            Some(Tally { passed: 9, failed: 1 })
        );
        assert_eq!(parse_summary("running 2 tests"), None);
        assert_eq!(parse_node_summary("# pass 5"), Some(Tally { passed: 5, failed: 0 }));
        assert_eq!(
            parse_engine_result("test firefox::local_flow_completes ... ok"),
            Some(("firefox", true))
        );
        assert_eq!(
            parse_engine_result("test webkit::embed::a_case ... FAILED"),
            Some(("webkit", false))
        );
        assert_eq!(parse_engine_result("test replicas_share_sessions ... ok"), None);
        assert_eq!(parse_engine_result("test chromiumish::x ... ok"), None);
        assert_eq!(parse_node_summary("# fail 1"), Some(Tally { passed: 0, failed: 1 }));
        assert_eq!(parse_node_summary("# tests 6"), None);
    }
}
