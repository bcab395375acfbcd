//! docs/architecture.md's table of crates against the crates: each crate of the workspace has a
//! row, and the row's "uses" names exactly the workspace crates its `Cargo.toml` depends on.

use std::collections::BTreeSet;
use std::path::Path;

/// The crates of this repository a crate can depend on.
const OURS: [&str; 8] = [
    "attack-cases",
    "contract",
    "pkce",
    "pkce-js",
    "flow",
    "sequence",
    "companion",
    "stand-in",
];

/// The repository's crates named in `text`, as whole words.
fn ours_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| OURS.contains(word))
        .map(str::to_owned)
        .collect()
}

/// The repository's crates in the `[dependencies]` section of a `Cargo.toml`.
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let section = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .map(|rest| rest.split("\n[").next().unwrap_or_default())
        .unwrap_or_default();
    section
        .lines()
        .filter_map(|line| line.split(['=', '.', ' ']).next())
        .filter(|name| OURS.contains(name))
        .map(str::to_owned)
        .collect()
}

/// Each row of the crate table: (the folder it names, its "uses" cell).
fn rows(architecture: &str) -> Vec<(String, String)> {
    architecture
        .lines()
        .skip_while(|line| !line.starts_with("| crate | job | uses |"))
        .skip(2)
        .take_while(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let folder = cells.first()?.trim_start_matches("| `").trim_end_matches('`');
            Some((
                folder.trim_end_matches('/').to_owned(),
                cells.last()?.trim_end_matches(" |").to_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_table_names_each_crates_own_dependencies() {
        let root = crate::repo_root();
        let architecture = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
        let rows = rows(&architecture);
        let mut folders: Vec<String> = std::fs::read_dir(root.join("crates"))
            .unwrap()
            .map(|entry| format!("crates/{}", entry.unwrap().file_name().to_string_lossy()))
            .chain(["tests".to_owned(), "fuzz".to_owned()])
            .collect();
        folders.sort();
        let mut listed: Vec<String> = rows.iter().map(|(folder, _)| folder.clone()).collect();
        listed.sort();
        assert_eq!(listed, folders, "the crate table has a row for each crate");
        for (folder, uses) in &rows {
            let manifest = std::fs::read_to_string(Path::new(&root).join(folder).join("Cargo.toml")).unwrap();
            assert_eq!(ours_in(uses), dependencies(&manifest), "{folder}: the table's \"uses\"");
        }
    }

    #[test]
    fn a_manifests_own_crates_and_a_rows_cells_are_read() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\ncontract.workspace = true\nflow = { workspace = true }\nserde = \"1\"\nstand-in = { workspace = true, optional = true }\n\n[dev-dependencies]\npkce.workspace = true\n";
        assert_eq!(
            dependencies(manifest),
            BTreeSet::from(["contract".into(), "flow".into(), "stand-in".into()])
        );
        let table = "| crate | job | uses |\n|---|---|---|\n| `crates/a` | the a, unlike pkce | contract, flow-free |\n| `tests/` | all | pkce |\n\n";
        assert_eq!(
            rows(table),
            [
                ("crates/a".to_owned(), "contract, flow-free".to_owned()),
                ("tests".to_owned(), "pkce".to_owned())
            ]
        );
        assert_eq!(ours_in("contract, flow-free"), BTreeSet::from(["contract".into()]));
    }
}
