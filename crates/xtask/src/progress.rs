//! What a command prints as it goes: each phase's `==> ` line (the line `fresh-check` times),
//! with the time the same phase took in the last run of the command and what the phases still
//! to come took then; once a phase ends, the time it took. The times of a whole run are kept in
//! `target/phase-times/<command>.tsv` (phase, seconds) for the next run.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// The run under way: its command, the phase under way, the phases done, the last run's.
struct Run {
    command: String,
    current: Option<(String, Instant)>,
    done: Vec<(String, f64)>,
    last: Vec<(String, f64)>,
}

static RUN: Mutex<Option<Run>> = Mutex::new(None);

fn file(command: &str) -> PathBuf {
    crate::target_dir().join("phase-times").join(format!("{command}.tsv"))
}

/// Starts timing the phases of `command` (`demo`, `test`), with the last run's times if any.
pub fn begin(command: &str) {
    let last = std::fs::read_to_string(file(command))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (phase, secs) = line.rsplit_once('\t')?;
            Some((phase.to_owned(), secs.parse().ok()?))
        })
        .collect();
    *RUN.lock().unwrap_or_else(|e| e.into_inner()) = Some(Run {
        command: command.to_owned(),
        current: None,
        done: Vec::new(),
        last,
    });
}

/// Ends the phase under way, printing how long it took.
fn end_phase(run: &mut Run) {
    if let Some((phase, began)) = run.current.take() {
        let took = began.elapsed().as_secs_f64();
        println!("    ({})", seconds(took));
        run.done.push((phase, took));
    }
}

/// `12.3 s`, or `2 min 5 s` from a minute on.
fn seconds(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{} min {} s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    }
}

/// Prints the phase `text`; while a run is timed ([`begin`]), first the time the phase before
/// it took, and after it the time this phase and the rest took in the last run, where known.
pub fn step(text: &str) {
    let mut guard = RUN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(run) = guard.as_mut() {
        end_phase(run);
    }
    println!("\n==> {text}");
    if let Some(run) = guard.as_mut() {
        if let Some(at) = run.last.iter().position(|(phase, _)| phase == text) {
            let rest: f64 = run.last[at..].iter().map(|(_, secs)| secs).sum();
            println!(
                "    the last run: this phase {}, this and the phases after it {}",
                seconds(run.last[at].1),
                seconds(rest)
            );
        }
        run.current = Some((text.to_owned(), Instant::now()));
    }
}

/// Ends the run: the phase under way ends, and the run's phase times are kept for the next.
pub fn finish() {
    let mut guard = RUN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut run) = guard.take() else {
        return;
    };
    end_phase(&mut run);
    let path = file(&run.command);
    let text: String = run
        .done
        .iter()
        .map(|(phase, secs)| format!("{phase}\t{secs:.1}\n"))
        .collect();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&path, text);
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn durations_read_as_seconds_then_minutes() {
        assert_eq!(seconds(12.34), "12.3 s");
        assert_eq!(seconds(125.0), "2 min 5 s");
    }
}
