//! The documentation pages the embed tests run the walkthrough in, built from the snippets of
//! docs/embedding.md as written (each block after a `<!-- snippet: NAME -->` line): the plain-HTML snippet in a static page; the React
//! component in a Mintlify page and a Docusaurus page, each MDX compiled by MDX 3 and rendered by
//! React (`tests/doc-sites/build.mjs`); and a real Docusaurus 3 site (`docusaurus build`, server-side
//! rendering included) with the guide's component and Docusaurus page, under `site/` (its
//! `baseUrl`). Into `target/doc-sites/dist/`; the companion's address,
//! `https://walkthrough.example.net` in the guide, becomes `__COMPANION__`, which the test's
//! documentation server replaces with the address of the companion it started.

use std::path::PathBuf;

use crate::{command, repo_root, run, setup, step};

/// The guide's placeholder for the companion's address.
const GUIDE_COMPANION: &str = "https://walkthrough.example.net";
/// The embedding guide whose snippets the pages are built from.
const GUIDE: &str = "docs/embedding.md";
/// What the test's documentation server replaces.
const SERVED_COMPANION: &str = "__COMPANION__";

/// The npm packages the pages are built with.
const PACKAGES: [(&str, &str); 5] = [
    ("@mdx-js/esbuild", "3.1.1"),
    ("remark-frontmatter", "5.0.0"),
    ("react", "19.2.0"),
    ("react-dom", "19.2.0"),
    ("esbuild", setup::ESBUILD_VERSION),
];

/// The Docusaurus the real site is built with (its packages, pinned).
const DOCUSAURUS: [(&str, &str); 4] = [
    ("@docusaurus/core", "3.10.2"),
    ("@docusaurus/preset-classic", "3.10.2"),
    ("react", "19.2.0"),
    ("react-dom", "19.2.0"),
];

fn project_dir() -> PathBuf {
    repo_root().join("target/doc-sites")
}

/// Where the built pages land (what the end-to-end test serves).
pub fn dist_dir() -> PathBuf {
    project_dir().join("dist")
}

/// The block after `<!-- snippet: NAME -->` in `guide`, with the companion's address replaced.
fn snippet(guide: &str, name: &str) -> Result<String, String> {
    let marker = format!("<!-- snippet: {name} -->\n```");
    let rest = guide
        .split_once(&marker)
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{GUIDE} has no snippet {name:?}"))?;
    let body = rest
        .split_once('\n')
        .and_then(|(_, body)| body.split_once("```"))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("{GUIDE}'s snippet {name:?} is not a closed code block"))?;
    Ok(body.replace(GUIDE_COMPANION, SERVED_COMPANION))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<p>An example documentation page on its own site.</p>\n{body}\n<p>The end of the page.</p>\n</body>\n</html>\n"
    )
}

/// `package.json` of a private project depending on `packages`, its scripts ES modules or (for
/// Docusaurus, whose server bundle breaks as one) not.
fn package_json(packages: &[(&str, &str)], modules: bool) -> String {
    let dependencies: Vec<String> = packages
        .iter()
        .map(|(name, version)| format!("\"{name}\": \"{version}\""))
        .collect();
    let kind = if modules { "\n  \"type\": \"module\"," } else { "" };
    format!(
        "{{\n  \"private\": true,{kind}\n  \"dependencies\": {{ {} }}\n}}\n",
        dependencies.join(", ")
    )
}

/// Writes `files` (path, text) under `dir`, making their folders.
fn write_files(dir: &std::path::Path, files: Vec<(String, String)>) -> Result<(), String> {
    for (name, text) in files {
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    Ok(())
}

/// A file of the Docusaurus site kept in `tests/doc-sites/docusaurus/`.
fn site_file(name: &str) -> Result<String, String> {
    crate::read(&repo_root().join("tests/doc-sites/docusaurus").join(name))
}

/// The real Docusaurus 3 site: the guide's component and Docusaurus page, built by `docusaurus
/// build` into `dist/site/`.
fn build_docusaurus(guide: &str, dist: &std::path::Path) -> Result<(), String> {
    let dir = project_dir().join("docusaurus");
    let _ = std::fs::remove_dir_all(dir.join("build"));
    write_files(
        &dir,
        vec![
            ("package.json".to_owned(), package_json(&DOCUSAURUS, false)),
            // The site's configuration (served under `/site/` of the documentation server) and
            // its landing page, kept as files in `tests/doc-sites/docusaurus/`.
            ("docusaurus.config.js".to_owned(), site_file("docusaurus.config.js")?),
            ("src/pages/index.md".to_owned(), site_file("src/pages/index.md")?),
            (
                "src/components/PleoWalkthrough.jsx".to_owned(),
                snippet(guide, "component")?,
            ),
            ("docs/oauth-walkthrough.mdx".to_owned(), snippet(guide, "docusaurus")?),
        ],
    )?;
    run(
        command("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]),
        "npm install (Docusaurus site)",
    )?;
    let out = dist.join("site");
    run(
        command("npx")
            .current_dir(&dir)
            .env("DOCUSAURUS_TELEMETRY_DISABLED", "1")
            .args(["docusaurus", "build", "--out-dir"])
            .arg(&out),
        "docusaurus build",
    )
}

fn entry(page: &str) -> String {
    format!(
        "import Page from \"./{page}.mdx\";\nimport {{ createRoot }} from \"react-dom/client\";\nimport {{ jsx }} from \"react/jsx-runtime\";\ncreateRoot(document.getElementById(\"root\")).render(jsx(Page, {{}}));\n"
    )
}

/// Writes the pages' sources from the embedding guide and builds them.
pub fn build() -> Result<(), String> {
    step(
        "Building the snippets of the embedding guide (docs/embedding.md) into documentation pages (static HTML, Mintlify, Docusaurus MDX) and a real Docusaurus 3 site",
    );
    let guide = std::fs::read_to_string(repo_root().join(GUIDE)).map_err(|e| format!("cannot read {GUIDE}: {e}"))?;
    let dir = project_dir();
    let _ = std::fs::remove_dir_all(dir.join("dist"));
    for sub in ["dist", "snippets", "src/components"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("cannot create {sub}: {e}"))?;
    }
    let component = snippet(&guide, "component")?;
    let files = vec![
        ("package.json".to_owned(), package_json(&PACKAGES, true)),
        ("snippets/PleoWalkthrough.jsx".to_owned(), component.clone()),
        ("src/components/PleoWalkthrough.jsx".to_owned(), component),
        ("mintlify.mdx".to_owned(), snippet(&guide, "mintlify")?),
        ("docusaurus.mdx".to_owned(), snippet(&guide, "docusaurus")?),
        ("mintlify-entry.jsx".to_owned(), entry("mintlify")),
        ("docusaurus-entry.jsx".to_owned(), entry("docusaurus")),
        (
            "dist/html.html".to_owned(),
            page("Connecting to Pleo (plain HTML)", &snippet(&guide, "html")?),
        ),
        (
            "dist/mintlify.html".to_owned(),
            page(
                "Connecting to Pleo (Mintlify MDX)",
                "<div id=\"root\"></div>\n<script type=\"module\" src=\"/mintlify.js\"></script>",
            ),
        ),
        (
            "dist/docusaurus.html".to_owned(),
            page(
                "Connecting to Pleo (Docusaurus MDX)",
                "<div id=\"root\"></div>\n<script type=\"module\" src=\"/docusaurus.js\"></script>",
            ),
        ),
    ];
    write_files(&dir, files)?;
    // Beside its node_modules: Node resolves a script's imports from where the script is.
    std::fs::copy(repo_root().join("tests/doc-sites/build.mjs"), dir.join("build.mjs"))
        .map_err(|e| format!("cannot copy tests/doc-sites/build.mjs: {e}"))?;
    run(
        command("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]),
        "npm install (documentation pages)",
    )?;
    run(
        command("node").current_dir(&dir).args(["build.mjs", "."]),
        "node tests/doc-sites/build.mjs",
    )?;
    build_docusaurus(&guide, &dir.join("dist"))
}
