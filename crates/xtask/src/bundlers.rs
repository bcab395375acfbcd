//! The PKCE package as a front-end team installs it before it is published: packed into a
//! tarball (`npm pack`), checked by publint and `@arethetypeswrong/cli`, installed from that
//! tarball into one project that webpack 5, esbuild and Rollup each bundle (every bundle a page
//! the end-to-end test runs in Chromium: the RFC 7636 Appendix B vector and a generated pair
//! checked by WebCrypto), and imported by Node 20 as an ES module.

use std::path::{Path, PathBuf};

use crate::{command, copy, pkce_package, repo_root, run, setup, step, write};

/// The npm packages the project is built and checked with.
const PACKAGES: [(&str, &str); 6] = [
    ("webpack", "5.113.0"),
    ("webpack-cli", "6.0.1"),
    ("rollup", "4.69.3"),
    ("@rollup/plugin-node-resolve", "16.0.3"),
    ("publint", "0.3.25"),
    ("@arethetypeswrong/cli", "0.18.5"),
];

/// The bundlers, each building `src/main.js` into `dist/<name>/`.
pub const BUNDLERS: [&str; 3] = ["webpack", "esbuild", "rollup"];

fn project_dir() -> PathBuf {
    repo_root().join("target/pkce-bundlers")
}

/// Where the bundles land, one folder per bundler (what the end-to-end test serves).
pub fn dist_dir() -> PathBuf {
    project_dir().join("dist")
}

/// Packs the built package ([`pkce_package::out_dir`]) with `npm pack`; the tarball's path.
pub fn pack() -> Result<PathBuf, String> {
    let destination = repo_root().join("target/pkce-tarball");
    let _ = std::fs::remove_dir_all(&destination);
    std::fs::create_dir_all(&destination).map_err(|e| format!("{}: {e}", destination.display()))?;
    let output = command("npm")
        .current_dir(pkce_package::out_dir())
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&destination)
        .output()
        .map_err(|e| format!("npm pack: {e}"))?;
    if !output.status.success() {
        return Err(format!("npm pack: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let name = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let tarball = destination.join(&name);
    if !tarball.is_file() {
        return Err(format!("npm pack wrote no {}", tarball.display()));
    }
    println!("    {}", tarball.display());
    Ok(tarball)
}

/// The bundler project's own files (`crates/pkce-js/bundler-check/`).
fn files_dir() -> PathBuf {
    repo_root().join("crates/pkce-js/bundler-check")
}

/// Packs the package, checks the tarball, installs it into the project and builds a bundle with
/// each of [`BUNDLERS`], and imports it in Node.
pub fn build() -> Result<(), String> {
    step("Packing the PKCE package (npm pack) and bundling it from the tarball with webpack 5, esbuild and Rollup");
    let tarball = pack()?;
    let dir = project_dir();
    let _ = std::fs::remove_dir_all(dir.join("dist"));
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("package.json"), &package_json(&tarball))?;
    // The project's files as a team would write them (`crates/pkce-js/bundler-check/`): what each
    // bundle runs (the Appendix B vector, and a generated pair checked by WebCrypto, left on
    // `window` for the test), webpack 5 and Rollup as a team starts them, the page, and Node 20
    // importing the installed package.
    for name in [
        "src/main.js",
        "webpack.config.cjs",
        "rollup.config.mjs",
        "node-check.mjs",
    ] {
        copy(&files_dir().join(name), &dir.join(name))?;
    }
    // A tarball of the same version is another file: npm must install it afresh.
    let _ = std::fs::remove_dir_all(dir.join("node_modules/@pleo-walkthrough"));
    let _ = std::fs::remove_file(dir.join("package-lock.json"));
    run(
        command("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]),
        "npm install (the bundler project, from the tarball)",
    )?;
    let bin = |tool: &str| dir.join("node_modules/.bin").join(tool).display().to_string();
    run(
        command(&bin("publint"))
            .current_dir(&dir)
            .args(["--strict"])
            .arg(installed(&dir)),
        "publint",
    )?;
    run(
        command(&bin("attw"))
            .current_dir(&dir)
            .arg(&tarball)
            .args(["--profile", "esm-only"]),
        "@arethetypeswrong/cli",
    )?;
    run(
        command(&bin("webpack"))
            .current_dir(&dir)
            .args(["--config", "webpack.config.cjs"]),
        "webpack",
    )?;
    run(
        command(&setup::npm_tool("esbuild").display().to_string())
            .current_dir(&dir)
            .args([
                "src/main.js",
                "--bundle",
                "--format=esm",
                "--minify",
                "--log-level=warning",
            ])
            .arg(format!("--outfile={}", dist_dir().join("esbuild/main.js").display())),
        "esbuild",
    )?;
    run(
        command(&bin("rollup"))
            .current_dir(&dir)
            .args(["--config", "rollup.config.mjs", "--silent"]),
        "rollup",
    )?;
    // esbuild and Rollup keep the package's `new URL("pkce_bg.wasm", import.meta.url)` as it is:
    // the .wasm goes beside their bundle, as a team deploying one would put it.
    for bundler in ["esbuild", "rollup"] {
        copy(
            &installed(&dir).join("pkce_bg.wasm"),
            &dist_dir().join(bundler).join("pkce_bg.wasm"),
        )?;
    }
    for bundler in BUNDLERS {
        copy(
            &files_dir().join("index.html"),
            &dist_dir().join(bundler).join("index.html"),
        )?;
    }
    let node = command("node")
        .current_dir(&dir)
        .arg("node-check.mjs")
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let printed = String::from_utf8_lossy(&node.stdout);
    if !node.status.success() || printed.trim() != APPENDIX_B_CHALLENGE {
        return Err(format!(
            "Node 20 importing the package from the tarball printed {printed:?}: {}",
            String::from_utf8_lossy(&node.stderr)
        ));
    }
    println!(
        "    Node {}: imports the package as an ES module",
        version(&["--version"])
    );
    Ok(())
}

/// The RFC 7636 Appendix B challenge of its verifier.
pub const APPENDIX_B_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn installed(dir: &Path) -> PathBuf {
    dir.join("node_modules/@pleo-walkthrough/pkce")
}

fn version(args: &[&str]) -> String {
    command("node")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn package_json(tarball: &Path) -> String {
    let dev: Vec<String> = PACKAGES
        .iter()
        .map(|(name, version)| format!("    \"{name}\": \"{version}\""))
        .collect();
    format!(
        "{{\n  \"private\": true,\n  \"type\": \"module\",\n  \"dependencies\": {{ \"@pleo-walkthrough/pkce\": \"file:{}\" }},\n  \"devDependencies\": {{\n{}\n  }}\n}}\n",
        tarball.display(),
        dev.join(",\n")
    )
}
