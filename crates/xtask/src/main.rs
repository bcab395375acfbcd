//! The task runner behind the README's commands. The standard library and two small hashing
//! crates only, so it builds in seconds on a fresh machine.
//!
//! - `cargo xtask demo`: installs what is missing, starts the companion (with the embedded
//!   stand-in) on 127.0.0.1:3000 and `trunk serve` on http://localhost:8080/.
//! - `cargo xtask test`: installs what is missing (Chromium included), builds the app, runs every
//!   test suite (native, wasm in headless Chromium, end to end), ends with `N passed, N failed`.
//! - `cargo xtask build-app`: the app as users download it (release, size settings) in dist/.
//! - `cargo xtask pkce-package`: the npm-ready PKCE package in `target/pkce-package/`.
//! - `cargo xtask fuzz [seconds]`: every cargo-fuzz target, for that long each (default 300).
//! - `cargo xtask attack-list`: writes the attack and fault cases the last test run recorded
//!   into the README.
//! - `cargo xtask setup [--browser]`: only the installation steps.

mod attack_list;
mod fuzz;
mod pkce_package;
mod setup;
mod test_run;
mod wasm_release;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test_run::run_all(),
        Some("setup") => setup::ensure_tools(args.iter().any(|a| a == "--browser")),
        Some("build-app") => setup::ensure_tools(false).and_then(|()| wasm_release::build_app()),
        Some("pkce-package") => setup::ensure_tools(false).and_then(|()| pkce_package::build()).map(|_| ()),
        Some("attack-list") => attack_list::write_readme(),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u64>()).unwrap_or(Ok(300)) {
            Ok(seconds) => fuzz::run(seconds).and_then(|failed| if failed.is_empty() { Ok(()) } else { Err(format!("fuzzing found failures in {failed:?}")) }),
            Err(_) => Err("usage: cargo xtask fuzz [seconds per target]".to_owned()),
        },
        _ => {
            eprintln!("usage: cargo xtask <demo|test|build-app|pkce-package|fuzz [seconds]|attack-list|setup [--browser]>");
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
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

/// Prints a step the way every command here does.
pub fn step(text: &str) {
    println!("\n==> {text}");
}

/// A command run from the repository root, with cargo's bin directory on PATH.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.current_dir(repo_root()).env("PATH", setup::path_with_cargo_bin()).env("ATTACK_CASES_DIR", attack_list::cases_dir());
    command
}

/// Runs `command`, failing with `what` if it does not succeed.
pub fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

fn demo() -> Result<(), String> {
    setup::ensure_tools(false)?;
    step("Building the companion (release)");
    run(command("cargo").args(["build", "--release", "-p", "companion"]), "cargo build -p companion")?;
    step("Starting the companion on COMPANION_ADDR (default 127.0.0.1:3000) with the embedded stand-in");
    let mut companion = command(&repo_root().join("target/release/companion").display().to_string())
        .spawn()
        .map_err(|e| format!("could not start the companion: {e}"))?;
    step("Building the app and serving it at http://localhost:8080/ (Ctrl-C stops both)");
    println!("    Open http://localhost:8080/ and press \"Generate PKCE verifier, challenge and state\".");
    let served = run(wasm_release::size_optimised(&mut command("trunk")).args(["serve", "--offline", "--release"]), "trunk serve");
    let _ = companion.kill();
    let _ = companion.wait();
    served
}
