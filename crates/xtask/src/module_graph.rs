//! The module graph of each crate, read from its sources with `syn`: which module names which,
//! in every form a Rust path takes (`use` trees with groups, globs and renames; `crate::`,
//! `self::`, `super::` and child paths; paths in types, expressions, patterns and macro
//! arguments; names brought in by a `use`; items reached through a re-export such as
//! `crate::AppState`, which count as the module that defines them). A test run with the native
//! tests holds that no crate has a circle between its modules, and that each crate's top-level
//! modules name only the rooms below them in the crate's layer order ([`LAYERS`]). The crate
//! root, which declares the modules and wires them together, is left out of both; unit tests
//! (`#[cfg(test)]`) are left out too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Module path (`a::b`; `` for the crate root) -> the modules it names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// What one module holds that a path can lead through.
#[derive(Debug, Default)]
struct Scope {
    /// Modules declared in it (`mod x;` or `mod x { .. }`).
    children: BTreeSet<String>,
    /// Names a `use` brings in, with the path they stand for (as written, resolved from here).
    imports: BTreeMap<String, Vec<String>>,
    /// Paths a glob `use a::*;` brings every name of.
    globs: Vec<Vec<String>>,
    /// Every path the module's code names (as written).
    named: Vec<Vec<String>>,
}

/// The sources of one crate: module path -> its scope.
struct Crate {
    scopes: BTreeMap<String, Scope>,
}

/// The graph of the crate whose root file is `root` (`src/lib.rs` or `src/main.rs`), following
/// its `mod` declarations to their files.
pub fn of_crate(root: &Path) -> Result<Graph, String> {
    let mut files = Vec::new();
    read_tree(root, String::new(), &mut files)?;
    of_sources(&files)
}

/// The graph of a crate given as (module path, source text) pairs, one per file.
pub fn of_sources(files: &[(String, String)]) -> Result<Graph, String> {
    let mut krate = Crate {
        scopes: BTreeMap::new(),
    };
    for (module, text) in files {
        let file = syn::parse_file(text).map_err(|e| format!("module `{module}`: {e}"))?;
        krate.read_items(module, &file.items);
    }
    let mut graph = Graph::new();
    for (module, scope) in &krate.scopes {
        let mut named = BTreeSet::new();
        let imported = scope.imports.values().chain(&scope.globs);
        for path in imported.chain(&scope.named) {
            if let Some(target) = krate.resolve(module, path, 0).and_then(|abs| krate.module_of(&abs, 0)) {
                named.insert(target);
            }
        }
        named.remove(module);
        named.remove("");
        graph.insert(module.clone(), named);
    }
    Ok(graph)
}

/// `mod x;` declarations of the file text `text`, in order.
fn declared_files(text: &str) -> Result<Vec<String>, String> {
    let file = syn::parse_file(text).map_err(|e| e.to_string())?;
    Ok(file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() && !is_test_only(&m.attrs) => Some(m.ident.to_string()),
            _ => None,
        })
        .collect())
}

/// Reads `file` (module `module`) and the files its `mod x;` declarations name.
fn read_tree(file: &Path, module: String, files: &mut Vec<(String, String)>) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let declared = declared_files(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    // `a.rs` declares its children in `a/`; `mod.rs`, `lib.rs` and `main.rs` in their own folder.
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let dir: PathBuf = if ["mod", "lib", "main"].contains(&stem.as_ref()) {
        file.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        file.with_extension("")
    };
    files.push((module.clone(), text));
    for child in declared {
        let path = [dir.join(format!("{child}.rs")), dir.join(&child).join("mod.rs")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| format!("{}: `mod {child};` has no file", file.display()))?;
        read_tree(&path, join(&module, &child), files)?;
    }
    Ok(())
}

/// `parent::child` (`child` under the crate root).
fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}::{child}")
    }
}

/// Whether `attrs` hold `#[cfg(test)]` (code the tests alone compile).
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|attr| attr.path().is_ident("cfg") && attr.parse_args::<syn::Ident>().is_ok_and(|ident| ident == "test"))
}

/// The attributes of an item.
fn attrs_of(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

impl Crate {
    /// Records the items of module `module` (a file's, or an inline module's).
    fn read_items(&mut self, module: &str, items: &[syn::Item]) {
        self.scopes.entry(module.to_owned()).or_default();
        for item in items.iter().filter(|item| !is_test_only(attrs_of(item))) {
            match item {
                syn::Item::Mod(m) => {
                    let child = join(module, &m.ident.to_string());
                    self.scope(module).children.insert(m.ident.to_string());
                    if let Some((_, inner)) = &m.content {
                        self.read_items(&child, inner);
                    }
                }
                syn::Item::Use(u) => {
                    let scope = self.scope(module);
                    use_tree(&u.tree, Vec::new(), &mut |name, path| match name {
                        Some(name) => {
                            scope.imports.insert(name, path);
                        }
                        None => scope.globs.push(path),
                    });
                }
                other => {
                    let mut paths = PathsNamed::default();
                    paths.visit_item(other);
                    self.scope(module).named.extend(paths.0);
                }
            }
        }
    }

    fn scope(&mut self, module: &str) -> &mut Scope {
        self.scopes.entry(module.to_owned()).or_default()
    }

    /// `path` as written in `module`, from the crate root (without `crate`); `None` for a path
    /// outside the crate (another crate, the prelude, a generic parameter).
    fn resolve(&self, module: &str, path: &[String], depth: usize) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let here: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let scope = self.scopes.get(module)?;
        let mut absolute = match first.as_str() {
            "crate" => Vec::new(),
            "self" => here,
            "super" => {
                let parent = here[..here.len().checked_sub(1)?].join("::");
                // `super::super::x` goes up again; `super::x` reads `x` from the parent.
                let from_parent = if rest.first().is_some_and(|s| s == "super") {
                    rest.to_vec()
                } else {
                    [&["self".to_owned()], rest].concat()
                };
                return self.resolve(&parent, &from_parent, depth);
            }
            name if scope.children.contains(name) => [here, vec![name.to_owned()]].concat(),
            name if depth < 8 => {
                let imported = scope.imports.get(name)?;
                self.resolve(module, imported, depth + 1)?
            }
            _ => return None,
        };
        absolute.extend(rest.iter().cloned());
        Some(absolute)
    }

    /// The module a path from the crate root leads to: the deepest module it passes through,
    /// following re-exports (`pub use`) to the module that defines what they name.
    fn module_of(&self, absolute: &[String], depth: usize) -> Option<String> {
        let mut module = String::new();
        for (i, segment) in absolute.iter().enumerate() {
            let scope = self.scopes.get(&module)?;
            if scope.children.contains(segment) {
                module = join(&module, segment);
                continue;
            }
            if depth < 8
                && let Some(imported) = scope.imports.get(segment)
                && let Some(through) = self.resolve(&module, imported, depth + 1)
            {
                return self.module_of(&[through, absolute[i + 1..].to_vec()].concat(), depth + 1);
            }
            break;
        }
        Some(module)
    }
}

/// Calls `each(name, path)` for every name a `use` tree brings in (`None` for a glob), with the
/// path it stands for.
fn use_tree(tree: &syn::UseTree, prefix: Vec<String>, each: &mut dyn FnMut(Option<String>, Vec<String>)) {
    let with = |segment: String| [prefix.clone(), vec![segment]].concat();
    match tree {
        syn::UseTree::Path(p) => use_tree(&p.tree, with(p.ident.to_string()), each),
        syn::UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                each(Some(last.clone()), prefix.clone());
            }
        }
        syn::UseTree::Name(n) => each(Some(n.ident.to_string()), with(n.ident.to_string())),
        syn::UseTree::Rename(r) => each(Some(r.rename.to_string()), with(r.ident.to_string())),
        syn::UseTree::Glob(_) => each(None, prefix),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_tree(tree, prefix.clone(), each);
            }
        }
    }
}

/// Every path an item's code names: in types, expressions, patterns and attributes, and the
/// path-shaped runs (`a::b::c`) in macro arguments, which `syn` leaves as tokens.
#[derive(Default)]
struct PathsNamed(Vec<Vec<String>>);

impl<'ast> Visit<'ast> for PathsNamed {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0.push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        paths_in_tokens(mac.tokens.clone(), &mut self.0);
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // An inline module inside a function or block: read as a module of its own is beyond
        // this reader; none of the crates has one.
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(super)` and `pub(in path)` say who may see an item, not what it uses.
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        // `#[cfg(..)]`, `#[derive(..)]` and the rest name no module of the crate.
        let _ = attr;
    }
}

/// The path-shaped runs `a::b::c` (two or more segments) in a token stream, nested groups
/// included.
fn paths_in_tokens(tokens: proc_macro2::TokenStream, out: &mut Vec<Vec<String>>) {
    use proc_macro2::{Spacing, TokenTree};
    let mut run: Vec<String> = Vec::new();
    // Colons seen since the last identifier of the run: two separate segments.
    let mut colons = 0;
    let flush = |run: &mut Vec<String>, out: &mut Vec<Vec<String>>| {
        if run.len() > 1 {
            out.push(std::mem::take(run));
        }
        run.clear();
    };
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                if colons != 2 {
                    flush(&mut run, out);
                }
                run.push(ident.to_string());
                colons = 0;
            }
            TokenTree::Punct(p) if p.as_char() == ':' && !run.is_empty() => {
                colons += 1;
                if colons == 1 && p.spacing() != Spacing::Joint {
                    flush(&mut run, out);
                    colons = 0;
                }
            }
            TokenTree::Group(group) => {
                flush(&mut run, out);
                colons = 0;
                paths_in_tokens(group.stream(), out);
            }
            _ => {
                flush(&mut run, out);
                colons = 0;
            }
        }
    }
    flush(&mut run, out);
}

/// Each crate's rooms (its top-level modules) in layers, from the top down: a room names rooms of
/// its own layer (without a circle) or of a layer below, never one above. Every room of a listed
/// crate has its place here; docs/architecture.md describes the companion's.
pub const LAYERS: &[(&str, &[&[&str]])] = &[
    (
        "companion",
        &[
            // What answers requests: the routes' handlers, the stand-in's fault switches, the
            // probes and the metrics listener.
            &["endpoints", "faults", "ops"],
            // What handlers build on: the API proxy with its refresh, the HTTP edge, the exports.
            &["proxy", "http", "take_home"],
            // The process's shared state, and the configuration it is built from.
            &["state"],
            &["config"],
            // The authorisation server, the session stores, the API's allow list.
            &["oauth", "sessions", "allow_list"],
            // The transcript every upstream-facing room writes, and what it and they share.
            &["transcript"],
            &["redaction", "upstream", "metric_names", "lifecycle", "error"],
        ],
    ),
    (
        "app",
        &[
            &["embed"],
            &["views"],
            &["popup"],
            &["authorization", "callback", "live"],
            &["api", "pending", "options"],
            &["browser_log"],
        ],
    ),
    (
        "stand-in",
        &[
            &["api", "introspection", "knobs", "metadata"],
            &["token"],
            &["authorize"],
            &["store", "html", "demo_data"],
            &["registration"],
        ],
    ),
    (
        "flow",
        &[&["authorize", "callback", "token_error", "expiry"], &["prelude"]],
    ),
    (
        "pkce",
        &[
            &["challenge"],
            &["state", "verifier"],
            &["random"],
            &["base64url", "error"],
        ],
    ),
    (
        "contract",
        &[
            &["javascript"],
            &["catalog", "wire", "page", "routes"],
            &["environment", "error_code", "knobs", "oauth", "exports"],
            &["wire_name", "prelude"],
        ],
    ),
    (
        "xtask",
        &[
            &["test_run", "fresh_check"],
            &["bundlers", "doc_sites", "vite_example", "fuzz", "image", "attack_list"],
            &["pkce_package"],
            &["wasm_release"],
            &["setup", "progress"],
        ],
    ),
];

/// The top-level module `module` is in (`a` for `a::b::c`).
fn room(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

/// Whether every room of `graph` has a place in `layers`, and the imports that run back up:
/// (importing module, imported module).
pub fn upward_imports(graph: &Graph, layers: &[&[&str]]) -> Result<Vec<(String, String)>, String> {
    let layer_of = |module: &str| layers.iter().position(|layer| layer.contains(&room(module)));
    if let Some(unplaced) = graph.keys().filter(|m| !m.is_empty()).find(|m| layer_of(m).is_none()) {
        return Err(format!("the room `{}` has no place in the layers", room(unplaced)));
    }
    let mut upward = Vec::new();
    for (module, named) in graph.iter().filter(|(m, _)| !m.is_empty()) {
        for target in named {
            if layer_of(target) < layer_of(module) {
                upward.push((module.clone(), target.clone()));
            }
        }
    }
    Ok(upward)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sources: &[(&str, &str)]) -> Vec<(String, String)> {
        sources
            .iter()
            .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
            .collect()
    }

    fn named(graph: &Graph, module: &str) -> Vec<String> {
        graph[module].iter().cloned().collect()
    }

    #[test]
    fn no_crate_has_a_circle_between_its_modules() {
        let crates = crate::repo_root().join("crates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&crates).unwrap() {
            let src = entry.unwrap().path().join("src");
            for root in ["lib.rs", "main.rs"]
                .map(|f| src.join(f))
                .into_iter()
                .filter(|r| r.is_file())
            {
                let graph = of_crate(&root).unwrap();
                assert_eq!(circle(&graph), None, "{}", root.display());
                checked += 1;
            }
        }
        assert!(checked >= 10, "every crate root was read: {checked}");
    }

    /// The circle the first checker missed: an upper-case item reached through the crate root's
    /// re-export (`crate::AppState`), and a child module named by a relative path (`redis::`).
    #[test]
    fn a_circle_through_a_re_export_and_a_relative_child_path_is_found() {
        let graph = of_sources(&files(&[
            ("", "mod state; mod sessions; mod ops; pub use state::AppState;"),
            ("state", "use crate::sessions::SessionStore; pub struct AppState;"),
            (
                "sessions",
                "mod redis; pub trait SessionStore {} fn f() -> redis::RedisStore { todo!() }",
            ),
            (
                "sessions::redis",
                "pub struct RedisStore; fn f() { crate::ops::metrics::count(); }",
            ),
            ("ops", "pub mod metrics;"),
            ("ops::metrics", "use crate::AppState; pub fn count() {}"),
        ]))
        .unwrap();
        assert_eq!(named(&graph, "ops::metrics"), ["state"]);
        assert_eq!(named(&graph, "sessions"), ["sessions::redis"]);
        assert_eq!(
            circle(&graph),
            Some(
                ["ops::metrics", "state", "sessions", "sessions::redis", "ops::metrics"]
                    .map(str::to_owned)
                    .to_vec()
            )
        );
    }

    #[test]
    fn every_form_of_a_path_is_read() {
        let graph = of_sources(&files(&[
            (
                "",
                "mod a; mod b; mod c; mod d; mod e; mod f; mod g; mod h; pub use g::Gadget as Renamed;",
            ),
            // A `use` group with a rename and `self`, a glob, and a name brought in then used.
            (
                "a",
                "use crate::{b::{self, Bee}, c::Sea as See}; use crate::d::*; fn f() { b::go(); }",
            ),
            ("b", "pub(super) struct Bee; pub(in crate::b) fn go() {}"),
            ("c", "pub struct Sea;"),
            ("d", "pub fn dee() {}"),
            // A path in a type, in an expression, in a pattern and in a macro's arguments.
            (
                "e",
                "fn f(x: crate::b::Bee) { let _ = crate::c::Sea; if let crate::h::Aitch = x {} \
                 tracing::info!(n = crate::d::dee()); }",
            ),
            // `super::`, `self::` and a child module, and a re-export under another name.
            (
                "f",
                "mod inner { fn f() { super::super::b::go(); } } fn f() { self::inner::g(); } use crate::Renamed;",
            ),
            ("g", "pub struct Gadget;"),
            ("h", "pub struct Aitch;"),
        ]))
        .unwrap();
        assert_eq!(named(&graph, "a"), ["b", "c", "d"]);
        assert_eq!(named(&graph, "e"), ["b", "c", "d", "h"]);
        assert_eq!(named(&graph, "f"), ["f::inner", "g"]);
        assert_eq!(named(&graph, "f::inner"), ["b"]);
    }

    #[test]
    fn other_crates_unit_tests_and_comments_are_not_dependencies() {
        let graph = of_sources(&files(&[
            ("", "mod a; mod b;"),
            (
                "a",
                "use std::collections::BTreeMap; use serde::Serialize; /// See [`crate::b`].\n\
                 fn f() {} #[cfg(test)] mod tests { use crate::b::Bee; }",
            ),
            ("b", "pub struct Bee; fn f() { crate::a::f(); }"),
        ]))
        .unwrap();
        assert_eq!(named(&graph, "a"), Vec::<String>::new());
        assert_eq!(circle(&graph), None);
    }

    #[test]
    fn no_room_names_a_room_above_it() {
        let crates = crate::repo_root().join("crates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&crates).unwrap() {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let Some(root) = ["lib.rs", "main.rs"]
                .map(|f| dir.join("src").join(f))
                .into_iter()
                .find(|r| r.is_file())
            else {
                continue;
            };
            let graph = of_crate(&root).unwrap();
            let layers = LAYERS
                .iter()
                .find(|(listed, _)| *listed == name)
                .map(|(_, layers)| *layers);
            match layers {
                Some(layers) => assert_eq!(upward_imports(&graph, layers), Ok(Vec::new()), "{name}"),
                // A crate of one file has no rooms to order.
                None => assert_eq!(graph.keys().collect::<Vec<_>>(), [""], "{name} has rooms but no layers"),
            }
            checked += 1;
        }
        assert!(checked >= 10, "every crate was read: {checked}");
    }

    #[test]
    fn an_import_back_up_and_an_unplaced_room_are_named() {
        let graph = of_sources(&files(&[
            ("", "mod high; mod low; mod new;"),
            ("high", "fn f() { crate::low::g(); }"),
            ("low", "pub fn g() {} fn h() { crate::high::f(); }"),
            ("new", ""),
        ]))
        .unwrap();
        assert_eq!(
            upward_imports(&graph, &[&["high"], &["low", "new"]]),
            Ok(vec![("low".to_owned(), "high".to_owned())])
        );
        assert_eq!(
            upward_imports(&graph, &[&["high"], &["low"]]),
            Err("the room `new` has no place in the layers".to_owned())
        );
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
}
