//! The attack and fault cases the tests record: each test asserts a case, then writes
//! `area \t case \t outcome` as one file into [`dir`]; `cargo xtask attack-list` renders them
//! into docs/attacks.md, and the test command checks that the page shows exactly them.

use std::path::PathBuf;

/// Where cases are recorded: `ATTACK_CASES_DIR` (the test command sets it for every suite),
/// else the workspace's `target/attack-cases`.
pub fn dir() -> PathBuf {
    std::env::var_os("ATTACK_CASES_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/attack-cases")),
        PathBuf::from,
    )
}

/// Records a case: `outcome` is what the test observed, after asserting it. One file per case,
/// named after it, so a case recorded twice (a retried test) is one row.
pub fn record(area: &str, case: &str, outcome: &str) -> std::io::Result<()> {
    let file: String = format!("{area} {case}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(file + ".tsv"), format!("{area}\t{case}\t{outcome}\n"))
}

/// [`record`] in a test: a case that cannot be written fails the test.
pub fn record_case(area: &str, case: &str, outcome: &str) {
    if let Err(e) = record(area, case, outcome) {
        panic!("the attack case {case:?} was not recorded in {}: {e}", dir().display());
    }
}
