//! The module graph of each crate, read from its sources: which module names which
//! (`crate::a::b`, `super::c`), so that a test (run with the native tests) can hold that no
//! crate has a circle between its modules (the crate root, which declares them all, and
//! comments aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path -> the modules it names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The graph of the crate whose sources are in `src`.
pub fn of_crate(src: &Path) -> Result<Graph, String> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    let modules: BTreeMap<String, String> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            Ok((module_of(src, file), without_comments_and_tests(&text)))
        })
        .collect::<Result<_, String>>()?;
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    let mut graph = Graph::new();
    for (module, text) in &modules {
        let mut named = BTreeSet::new();
        for path in paths_after(text, "crate::") {
            if let Some(target) = longest_known(&known, &path) {
                named.insert(target);
            }
        }
        let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
        for path in paths_after(text, "super::") {
            let absolute = if parent.is_empty() {
                path
            } else {
                format!("{parent}::{path}")
            };
            if let Some(target) = longest_known(&known, &absolute) {
                named.insert(target);
            }
        }
        for group in braced_groups_after(text, "use crate::{") {
            for item in group.split(',') {
                let first = item.trim().split("::").next().unwrap_or_default();
                if known.contains(first) {
                    named.insert(first.to_owned());
                }
            }
        }
        named.remove(module);
        named.remove("");
        graph.insert(module.clone(), named);
    }
    Ok(graph)
}

/// A circle in `graph` (its modules in order, the first again at the end), if there is one.
pub fn circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(graph: &Graph, module: &str, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut circle = path[at..].to_vec();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(graph, next, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .filter(|m| !m.is_empty())
        .find_map(|module| visit(graph, module, &mut Vec::new(), &mut done))
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `a::b` for `src/a/b.rs` or `src/a/b/mod.rs`; `` for the crate root (`lib.rs`, `main.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts
        .last()
        .is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str()))
    {
        parts.pop();
    }
    parts.join("::")
}

/// The text without line comments (doc links are not dependencies) and without the unit tests.
fn without_comments_and_tests(text: &str) -> String {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `a::b::c` that follows `prefix` in `text`.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':')
                .collect::<String>()
                .trim_end_matches(':')
                .to_owned()
        })
        .collect()
}

/// The text inside each `{...}` that `prefix` opens.
fn braced_groups_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            rest.find('}').map(|end| &rest[..end])
        })
        .collect()
}

/// The longest prefix of `path` that is a module of the crate.
fn longest_known(known: &BTreeSet<&str>, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| known.contains(candidate.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_crate_has_a_circle_between_its_modules() {
        let crates = crate::repo_root().join("crates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&crates).unwrap() {
            let src = entry.unwrap().path().join("src");
            if !src.is_dir() {
                continue;
            }
            let graph = of_crate(&src).unwrap();
            assert_eq!(circle(&graph), None, "{}", src.display());
            checked += 1;
        }
        assert!(checked >= 9, "every crate was read: {checked}");
    }

    #[test]
    fn a_circle_is_found_and_named() {
        let graph: Graph = [
            ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
            ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
            ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ]
        .into();
        assert_eq!(
            circle(&graph),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        let tree: Graph = [
            ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
            ("b".to_owned(), BTreeSet::new()),
        ]
        .into();
        assert_eq!(circle(&tree), None);
    }

    #[test]
    fn module_paths_come_from_file_paths() {
        let src = Path::new("/x/src");
        assert_eq!(module_of(src, Path::new("/x/src/lib.rs")), "");
        assert_eq!(module_of(src, Path::new("/x/src/http/mod.rs")), "http");
        assert_eq!(module_of(src, Path::new("/x/src/http/cookies.rs")), "http::cookies");
    }
}
