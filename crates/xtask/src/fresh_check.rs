//! `cargo xtask fresh-check`: a newcomer's first page and first test run, rehearsed. Clones the
//! committed repository into a temporary folder and, with an empty cargo home (no registry cache,
//! no git checkouts, no tool `cargo install` put there), runs `cargo xtask demo` until its first
//! page is served, then `cargo xtask test` in the same clone: every crate is downloaded and every
//! tool built as on a new machine. Prints how long each phase of each took. `--demo` stops after
//! the demo's first page; `--steady` runs the test command a second time, as a developer's
//! every-day run.

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

/// How far a rehearsal goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rehearsal {
    /// The demo up to its first page (`--demo`).
    Demo,
    /// The demo, then the first test run in the same clone.
    DemoThenTest,
    /// The demo, the first test run, then a second one with nothing left to install or build
    /// from scratch (`--steady`).
    DemoThenTestTwice,
}

/// Runs the rehearsal ([`Rehearsal`]) as on a bare machine ([`BareMachine`]); prints each
/// phase's time at the end. Fails if the demo serves no page or a test run fails.
pub fn run(rehearsal: Rehearsal) -> Result<(), String> {
    let machine = BareMachine::new(if rehearsal == Rehearsal::Demo {
        "pleo-fresh-demo"
    } else {
        "pleo-fresh-check"
    })?;
    let (demo_phases, to_first_page) = machine.demo().inspect_err(|_| machine.remove(false))?;
    let mut report = vec![("the demo up to its first page", demo_phases, None)];
    let runs: &[&str] = match rehearsal {
        Rehearsal::Demo => &[],
        Rehearsal::DemoThenTest => &["the first test run after the demo"],
        Rehearsal::DemoThenTestTwice => &[
            "the first test run after the demo",
            "the steady test run (a second one)",
        ],
    };
    let mut failed = None;
    for what in runs {
        step(&format!("Running `cargo xtask test` in the same clone: {what}"));
        let (phases, closing, success) = timed(machine.command(&["xtask", "test"]).stdout(Stdio::piped()))?;
        report.push((what, phases, Some(closing)));
        if !success {
            failed = Some(*what);
            break;
        }
    }
    for (what, phases, closing) in &report {
        print_phases(what, phases);
        match closing {
            None => println!(
                "  {:>7.1} s  to the first page ({:.1} minutes)",
                to_first_page.as_secs_f64(),
                to_first_page.as_secs_f64() / 60.0
            ),
            Some(closing) => {
                let total: Duration = phases.iter().map(|p| p.took).sum();
                println!(
                    "  {:>7.1} s  in all ({:.1} minutes); the test command said: {closing}",
                    total.as_secs_f64(),
                    total.as_secs_f64() / 60.0
                );
            }
        }
    }
    machine.remove(failed.is_none());
    match failed {
        None => Ok(()),
        Some(what) => Err(format!(
            "{what} failed in the fresh clone (its sources and logs left in {} to look at)",
            machine.clone.display()
        )),
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

/// Prints each phase's time under a heading saying what ran.
fn print_phases(what: &str, phases: &[Phase]) {
    println!("\nfresh-check: {what}, time per phase (a clean clone, an empty cargo home, no installed tools)");
    for phase in phases {
        println!("  {:>7.1} s  {}", phase.took.as_secs_f64(), phase.name);
    }
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

/// A new machine, as far as cargo can tell: a temporary folder `<prefix>-<pid>` holding a clone of
/// the committed repository and an empty cargo home whose `bin` holds only rustup's proxies, and a
/// PATH without the cargo bin directory of this machine (Trunk, wasm-bindgen-cli and the rest
/// must be installed as on a new machine; Debian's packages stay, as they cannot be taken away).
struct BareMachine {
    root: PathBuf,
    clone: PathBuf,
    cargo_home: PathBuf,
    path: std::ffi::OsString,
}

impl BareMachine {
    fn new(prefix: &str) -> Result<Self, String> {
        let (root, clone, cargo_home) = clone_with_empty_cargo_home(prefix)?;
        let bin = cargo_home.join("bin");
        std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
        let installed = setup::cargo_bin();
        for proxy in RUSTUP_PROXIES {
            let _ = std::os::unix::fs::symlink(installed.join(proxy), bin.join(proxy));
        }
        let this_path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::iter::once(bin).chain(std::env::split_paths(&this_path).filter(|dir| *dir != installed));
        Ok(Self {
            path: std::env::join_paths(path).unwrap_or_default(),
            root,
            clone,
            cargo_home,
        })
    }

    /// `cargo args` in the clone, on this machine's cargo home and PATH.
    fn command(&self, args: &[&str]) -> Command {
        let mut cargo = Command::new("cargo");
        cargo
            .current_dir(&self.clone)
            .args(args)
            .env("CARGO_HOME", &self.cargo_home)
            // The toolchain stays where rustup keeps it; only cargo's home is new.
            .env("RUSTUP_HOME", rustup_home())
            .env("PATH", &self.path)
            .env_remove("CARGO_TARGET_DIR");
        cargo
    }

    /// Runs `cargo xtask demo` on a free port until the walkthrough's page is served, then stops
    /// it: the phases and the time to the first page.
    fn demo(&self) -> Result<(Vec<Phase>, Duration), String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        step(&format!(
            "Running `cargo xtask demo` there with an empty CARGO_HOME and no installed tools, on port {port}"
        ));
        let started = Instant::now();
        let mut child = self
            .command(&["xtask", "demo"])
            .env("COMPANION_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .process_group(0)
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
        match served {
            Some(took) => Ok((clock.phases(false), took)),
            None => Err("the demo served no page".to_owned()),
        }
    }

    /// Removes the folder (`all`), or, after a failure, only the build output and the cargo home
    /// (about 10 GB together), so that failed rehearsals do not fill the disk CI builds on while
    /// the sources, logs and screenshots stay to look at.
    fn remove(&self, all: bool) {
        if all {
            let _ = std::fs::remove_dir_all(&self.root);
        } else {
            let _ = std::fs::remove_dir_all(self.clone.join("target"));
            let _ = std::fs::remove_dir_all(&self.cargo_home);
        }
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
