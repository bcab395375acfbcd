//! The task runner behind the README's commands. The standard library, two small hashing crates
//! and the two compressors only, so it builds in seconds on a fresh machine (the checks that read
//! the repository's sources, run with the native tests, add `syn` as a dev-dependency).
//!
//! - `cargo xtask demo`: installs what is missing, builds the app as users download it and serves
//!   it from the companion (with the embedded stand-in) on http://localhost:8080/.
//! - `cargo xtask test`: installs what is missing (three browser engines included), builds the
//!   app, runs every test suite (native, wasm in headless Chromium, end to end in Chromium,
//!   Firefox and WebKit), ends with `N passed, N failed`.
//! - `cargo xtask build-app`: the app as users download it (release, size settings) in dist/.
//! - `cargo xtask image`: the companion with the app inside as a container image `FROM scratch`
//!   (`Containerfile`), built with podman.
//! - `cargo xtask production-companion`: the companion as a service runs it (release, no
//!   stand-in inside) in `target/production/companion`, a path no other build writes.
//! - `cargo xtask pkce-package`: the npm-ready PKCE package in `target/pkce-package/`, and its
//!   tarball (`npm pack`) in `target/pkce-tarball/`.
//! - `cargo xtask pkce-bundles`: that tarball checked (publint, `@arethetypeswrong/cli`),
//!   installed and bundled by webpack 5, esbuild and Rollup, and imported by Node.
//! - `cargo xtask fuzz [seconds]`: every cargo-fuzz target, for that long each (default 300).
//! - `cargo xtask attack-list`: writes the attack and fault cases the last test run recorded
//!   into `docs/attacks.md`.
//! - `cargo xtask setup [--browser] [--trunk]`: only the installation steps (`--trunk`: Trunk,
//!   for the development loop `trunk serve`).
//! - `cargo xtask fresh-check [--demo|--steady]`: the demo up to its first page, then the test
//!   command (`--demo`: the demo only; `--steady`: the test command twice), in a clean clone with
//!   an empty cargo home and no installed tool, as on a new machine, with each phase's time.

mod attack_list;
mod bundlers;
#[cfg(test)]
mod crate_table;
mod doc_sites;
mod fresh_check;
mod fuzz;
mod image;
#[cfg(test)]
mod module_graph;
mod pkce_package;
mod progress;
mod setup;
mod test_run;
mod vite_example;
mod wasm_release;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test_run::run_all(),
        Some("setup") => setup::ensure_tools(args.iter().any(|a| a == "--browser")).and_then(|()| {
            if args.iter().any(|a| a == "--trunk") {
                setup::ensure_trunk()
            } else {
                Ok(())
            }
        }),
        Some("build-app") => setup::ensure_tools(false).and_then(|()| wasm_release::build_app()),
        Some("production-companion") => production_companion().map(|_| ()),
        Some("image") => image::build().map(|_| ()),
        Some("pkce-package") => setup::ensure_tools(false)
            .and_then(|()| pkce_package::build())
            .and_then(|_| bundlers::pack())
            .map(|_| ()),
        Some("pkce-bundles") => setup::ensure_tools(false)
            .and_then(|()| pkce_package::build())
            .and_then(|_| bundlers::build()),
        Some("attack-list") => attack_list::write_page(),
        Some("doc-sites") => doc_sites::build(),
        Some("fresh-check") => fresh_check::run(if args.iter().any(|a| a == "--demo") {
            fresh_check::Rehearsal::Demo
        } else if args.iter().any(|a| a == "--steady") {
            fresh_check::Rehearsal::DemoThenTestTwice
        } else {
            fresh_check::Rehearsal::DemoThenTest
        }),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u64>()).unwrap_or(Ok(300)) {
            Ok(seconds) => fuzz::run(seconds).and_then(|failed| {
                if failed.is_empty() {
                    Ok(())
                } else {
                    Err(format!("fuzzing found failures in {failed:?}"))
                }
            }),
            Err(_) => Err("usage: cargo xtask fuzz [seconds per target]".to_owned()),
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|test|fresh-check [--demo|--steady]|build-app|production-companion|image|pkce-bundles|pkce-package|doc-sites|fuzz [seconds]|attack-list|setup [--browser] [--trunk]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives in crates/xtask).
#[expect(
    clippy::expect_used,
    reason = "a task runner outside its repository has nothing to do"
)]
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Prints a step the way every command here does ([`progress::step`]).
pub fn step(text: &str) {
    progress::step(text);
}

/// A command run from the repository root, with cargo's bin directory on PATH.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(repo_root())
        .env("PATH", setup::path_with_cargo_bin())
        .env("ATTACK_CASES_DIR", attack_list::cases_dir());
    command
}

/// Runs `command`, failing with `what` if it does not succeed.
pub fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Builds the production companion (release, `--no-default-features`: no stand-in code) and
/// copies it to `target/production/companion`, which neither the demo's build nor any other
/// writes, so that neither silently replaces the other; returns that path.
fn production_companion() -> Result<PathBuf, String> {
    step("Building the production companion (release, no stand-in inside)");
    run(
        &mut production_build(),
        "cargo build --release -p companion --no-default-features",
    )?;
    let target = target_dir();
    let out = target.join("production");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let binary = out.join("companion");
    std::fs::copy(target.join("release").join("companion"), &binary)
        .map_err(|e| format!("copying the companion to {}: {e}", binary.display()))?;
    println!("    {}", binary.display());
    Ok(binary)
}

/// `cargo build` of the production companion: release, without the stand-in (the `stand-in`
/// feature is the default one), the binary only.
pub fn production_build() -> Command {
    let mut cargo = command("cargo");
    cargo.args([
        "build",
        "--release",
        "-p",
        "companion",
        "--no-default-features",
        "--bin",
        "companion",
    ]);
    cargo
}

/// Writes `text` to `path`, or says which file could not be written.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The text of the file at `path`, or says which file could not be read.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The bytes of the file at `path`, or says which file could not be read.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Copies the file `from` to `to`, or says which copy failed.
pub fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// Cargo's target folder (`CARGO_TARGET_DIR`, else the workspace's `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from)
}

/// Where the demo serves the walkthrough unless `COMPANION_ADDR` says otherwise: the default
/// redirect URI is `http://localhost:8080/callback`.
const DEMO_ADDR: &str = "127.0.0.1:8080";

/// Builds the app as users download it, then serves it from the companion (with the embedded
/// stand-in). The app is built first so that a failed build stops here with its error, never
/// serving a page without its app.
fn demo() -> Result<(), String> {
    progress::begin("demo");
    setup::ensure_tools(false)?;
    wasm_release::build_app()?;
    step("Building the companion (the demo profile: release without link-time optimisation)");
    run(
        command("cargo").args(["build", "--profile", "demo", "-p", "companion", "--bin", "companion"]),
        "cargo build -p companion",
    )?;
    let addr = std::env::var("COMPANION_ADDR").unwrap_or_else(|_| DEMO_ADDR.to_owned());
    let port = addr.rsplit(':').next().unwrap_or_default();
    // The builds are timed; serving is not a phase that ends.
    progress::finish();
    step(&format!(
        "Serving the walkthrough at http://localhost:{port}/ from the companion, with the embedded stand-in (Ctrl-C stops it)"
    ));
    println!("    Open http://localhost:{port}/ and press \"Generate PKCE verifier, challenge and state\".");
    run(
        command(&target_dir().join("demo/companion").display().to_string())
            .env("COMPANION_ADDR", &addr)
            .env("COMPANION_STATIC_DIR", repo_root().join("dist")),
        "the companion",
    )
}
