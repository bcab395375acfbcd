//! `cargo xtask fresh-check`: the newcomer's first run, rehearsed. Clones the committed
//! repository into a temporary folder and runs the test command there with an empty cargo home
//! (no registry cache, no git checkouts), so every crate, the standard library's dependencies
//! included, is downloaded as on a new machine. The binaries already installed (Trunk,
//! wasm-bindgen-cli, cargo-fuzz, Chromium) stay on PATH, so they are not rebuilt; the npm tools
//! are installed afresh into the clone. Prints how long each phase took. `--demo` rehearses
//! `cargo xtask demo` instead, with no installed tool either, up to its first page.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{repo_root, setup, step};

/// One phase of the run: the `==> ` line that began it and how long it lasted.
struct Phase {
    name: String,
    took: Duration,
}

/// The phases of a command's output, timed as its `==> ` lines come (the first phase, before
/// any such line, is cargo building xtask itself).
struct PhaseClock {
    done: Vec<Phase>,
    current: (String, Instant),
}

impl PhaseClock {
    fn start() -> Self {
        Self {
            done: Vec::new(),
            current: (
                "Building xtask (cargo downloads its first crates)".to_owned(),
                Instant::now(),
            ),
        }
    }

    /// Notes an output line; the name of the phase it begins, if it begins one.
    fn line<'a>(&mut self, line: &'a str) -> Option<&'a str> {
        let name = line.strip_prefix("==> ")?;
        let (previous, began) = std::mem::replace(&mut self.current, (name.to_owned(), Instant::now()));
        self.done.push(Phase {
            name: previous,
            took: began.elapsed(),
        });
        Some(name)
    }

    /// The phases that ended, and (`with_current`) the one under way, as far as it went.
    fn phases(mut self, with_current: bool) -> Vec<Phase> {
        if with_current {
            self.done.push(Phase {
                name: self.current.0,
                took: self.current.1.elapsed(),
            });
        }
        self.done
    }
}

/// Runs the rehearsal (`--demo`: [`run_demo`]); fails if the test command in the clone fails.
pub fn run(demo: bool) -> Result<(), String> {
    if demo {
        return run_demo();
    }
    let (root, clone, cargo_home) = clone_with_empty_cargo_home("pleo-fresh-check")?;
    step(&format!(
        "Running `cargo xtask test` there with an empty CARGO_HOME ({})",
        cargo_home.display()
    ));
    let mut test = Command::new("cargo");
    test.current_dir(&clone)
        .args(["xtask", "test"])
        .env("CARGO_HOME", &cargo_home)
        // The toolchain stays where rustup keeps it; only cargo's home is new.
        .env("RUSTUP_HOME", rustup_home())
        .env("PATH", setup::path_with_cargo_bin())
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::piped());
    let (phases, closing, success) = timed(&mut test)?;
    println!("\nfresh-check: time per phase (a clean clone, an empty cargo registry cache)");
    for phase in &phases {
        println!("  {:>7.1} s  {}", phase.took.as_secs_f64(), phase.name);
    }
    let total: Duration = phases.iter().map(|p| p.took).sum();
    println!(
        "  {:>7.1} s  in all ({:.1} minutes); the test command said: {closing}",
        total.as_secs_f64(),
        total.as_secs_f64() / 60.0
    );
    if success {
        let _ = std::fs::remove_dir_all(&root);
        Ok(())
    } else {
        // The sources, logs and screenshots stay to look at; the build output and the cargo home
        // (about 9 GB together) go, so failed rehearsals do not fill the disk CI builds on.
        let _ = std::fs::remove_dir_all(clone.join("target"));
        let _ = std::fs::remove_dir_all(&cargo_home);
        Err(format!(
            "the test command failed in the fresh clone (its sources and artifacts left in {} to look at)",
            clone.display()
        ))
    }
}

/// A temporary folder `<prefix>-<pid>` holding a clone of the committed repository (`repo`) and
/// an empty cargo home (`cargo-home`): (folder, clone, cargo home).
fn clone_with_empty_cargo_home(prefix: &str) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let root = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let clone = root.join("repo");
    let cargo_home = root.join("cargo-home");
    std::fs::create_dir_all(&cargo_home).map_err(|e| format!("cannot create {}: {e}", cargo_home.display()))?;
    step(&format!("Cloning the committed repository into {}", clone.display()));
    let cloned = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(repo_root())
        .arg(&clone)
        .status();
    if !cloned.is_ok_and(|s| s.success()) {
        return Err("git clone failed".to_owned());
    }
    let head = Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["log", "-1", "--format=%h %s"])
        .output();
    println!(
        "    at {}",
        head.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    );
    Ok((root, clone, cargo_home))
}

/// The rustup proxies a bare machine has (rustup's own `cargo`, `rustc` and the rest), and
/// nothing `cargo install` put beside them.
const RUSTUP_PROXIES: [&str; 8] = [
    "cargo",
    "rustc",
    "rustup",
    "rustdoc",
    "rustfmt",
    "cargo-fmt",
    "cargo-clippy",
    "clippy-driver",
];

/// `cargo xtask fresh-check --demo`: the newcomer's first page, rehearsed as on a bare machine.
/// A clean clone, an empty cargo home, and a PATH whose cargo bin directory holds only rustup's
/// proxies (Trunk, wasm-bindgen-cli and the rest must be installed as on a new machine); runs
/// `cargo xtask demo` there on a free port until the walkthrough's page is served, then stops
/// it. Prints the time each phase took and the time to the first page.
pub fn run_demo() -> Result<(), String> {
    let (root, clone, cargo_home) = clone_with_empty_cargo_home("pleo-fresh-demo")?;
    let bin = cargo_home.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
    let installed = setup::cargo_bin();
    for proxy in RUSTUP_PROXIES {
        let _ = std::os::unix::fs::symlink(installed.join(proxy), bin.join(proxy));
    }
    let path: Vec<PathBuf> = std::iter::once(bin.clone())
        .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).filter(|dir| *dir != installed))
        .collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    step(&format!(
        "Running `cargo xtask demo` there with an empty CARGO_HOME and no installed tools, on port {port}"
    ));
    let started = Instant::now();
    let mut demo = Command::new("cargo");
    demo.current_dir(&clone)
        .args(["xtask", "demo"])
        .env("CARGO_HOME", &cargo_home)
        .env("RUSTUP_HOME", rustup_home())
        .env("PATH", std::env::join_paths(path).unwrap_or_default())
        .env("COMPANION_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::piped())
        .process_group(0);
    let mut child = demo
        .spawn()
        .map_err(|e| format!("cannot start cargo xtask demo: {e}"))?;
    let mut clock = PhaseClock::start();
    let mut served = None;
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        for line in lines.by_ref() {
            println!("{line}");
            if clock
                .line(&line)
                .is_some_and(|phase| phase.starts_with("Serving the walkthrough"))
            {
                served = first_page(port, Duration::from_secs(60)).then(|| started.elapsed());
                break;
            }
        }
        // The rest of the output is read to its end, so that no process of the demo meets a
        // closed pipe while it stops.
        std::thread::spawn(move || lines.for_each(drop));
    }
    // xtask and the companion: the whole process group, so that nothing keeps the port.
    let _ = Command::new("kill")
        .args(["-s", "TERM", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    println!("\nfresh-check --demo: time per phase (a clean clone, an empty cargo home, no installed tools)");
    for phase in &clock.phases(false) {
        println!("  {:>7.1} s  {}", phase.took.as_secs_f64(), phase.name);
    }
    let _ = std::fs::remove_dir_all(&root);
    match served {
        Some(took) => {
            println!(
                "  {:>7.1} s  to the first page ({:.1} minutes)",
                took.as_secs_f64(),
                took.as_secs_f64() / 60.0
            );
            Ok(())
        }
        None => Err("the demo served no page".to_owned()),
    }
}

/// Whether `GET /` on `port` answers the walkthrough's page within `limit`.
fn first_page(port: u16, limit: Duration) -> bool {
    use std::io::{Read as _, Write as _};
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") && answer.contains("Pleo OAuth 2.0 + PKCE walkthrough") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Runs `command`, echoing its output, and times the phases its `==> ` lines mark
/// ([`PhaseClock`]). Returns the phases, the last `N passed, N failed` line and whether the
/// command succeeded.
fn timed(command: &mut Command) -> Result<(Vec<Phase>, String, bool), String> {
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start cargo xtask test: {e}"))?;
    let mut clock = PhaseClock::start();
    let mut closing = String::from("no closing line");
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if clock.line(&line).is_none() && is_closing_line(&line) {
                closing = line;
            }
        }
    }
    let success = child.wait().is_ok_and(|s| s.success());
    Ok((clock.phases(true), closing, success))
}

/// `N passed, N failed`, the test command's last line.
fn is_closing_line(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    matches!(words.as_slice(), [p, "passed,", f, "failed"] if p.parse::<u64>().is_ok() && f.parse::<u64>().is_ok())
}

/// Where rustup keeps the toolchains (`RUSTUP_HOME`, else `~/.rustup`).
fn rustup_home() -> std::path::PathBuf {
    std::env::var_os("RUSTUP_HOME")
        .map(Into::into)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".rustup")))
        .unwrap_or_else(|| ".rustup".into())
}

#[cfg(test)]
mod tests {
    use super::is_closing_line;

    #[test]
    fn only_the_test_commands_closing_line_counts_as_closing() {
        assert!(is_closing_line("161 passed, 0 failed"));
        assert!(is_closing_line("3 passed, 2 failed"));
        assert!(!is_closing_line("test result: ok. 15 passed; 0 failed"));
        assert!(!is_closing_line("many passed, 0 failed"));
    }
}
