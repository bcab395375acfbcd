//! Release builds of the WebAssembly that users download: the walkthrough app (through Trunk)
//! and the PKCE package.
//!
//! Both rebuild the standard library with panics as an immediate trap
//! (`-Zbuild-std`, `-Cpanic=immediate-abort`): the wasm then carries no panic-message
//! formatting, which was about 18 KB of the app's gzipped bundle. A panic already ends a wasm
//! program (there is no unwinding in the browser), so only the message in the console is lost;
//! debug builds (`trunk serve` without `--release`, the wasm tests) keep it. For the same reason
//! they leave out panic locations (`-Zlocation-detail=none`) and `Debug` formatting
//! (`-Zfmt-debug=none`: `{:?}` prints nothing; no user-facing text uses it, and the end-to-end
//! tests read every message the page shows): about 4 KB gzipped of the app. These options are
//! unstable: the build allows them on the stable toolchain with `RUSTC_BOOTSTRAP=1`, the way
//! cargo-fuzz runs here. They need the toolchain's `rust-src` and, because Trunk builds offline,
//! the standard library's own dependencies in cargo's cache: [`size_settings_usable`] adds the
//! first and fetches the second (cheap once they are there). Where either cannot be had, the
//! build goes on with the plain release settings and says so in one line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::{command, run, setup, step};

/// Runs a release build of wasm32 (`make` gives the cargo or Trunk command afresh) with the size
/// settings when they can be used (see [`size_settings_usable`]). If that build fails, it runs
/// once more with the plain release settings and says so in one line: a toolchain whose unstable
/// options have changed still gets a working app.
pub fn run_release_build(what: &str, make: impl Fn() -> Command) -> Result<(), String> {
    if size_settings_usable() {
        let mut sized = make();
        sized
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            // Cargo adds these to the target's rustflags in .cargo/config.toml.
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none",
            );
        match run(&mut sized, what) {
            Ok(()) => return Ok(()),
            Err(e) => println!(
                "    {e} with the size settings: building again with the plain release settings (a larger wasm)"
            ),
        }
    }
    run(&mut make(), what)
}

/// Whether the standard library can be rebuilt offline: the toolchain's `rust-src` (added with
/// rustup when missing) and its dependencies in cargo's registry cache (`cargo fetch` of the
/// standard library's own `Cargo.toml`, which a new machine has never downloaded). Decided once a
/// run; when not, one line says why and what the build does instead.
pub fn size_settings_usable() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| match prepare_std_source() {
        Ok(()) => true,
        Err(why) => {
            println!("    {why}: building with the plain release settings instead (a larger wasm)");
            false
        }
    })
}

/// Adds `rust-src` if missing and fetches the standard library's dependencies.
fn prepare_std_source() -> Result<(), String> {
    let sysroot = command("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc --print sysroot: {e}"))?;
    let library = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim()).join("lib/rustlib/src/rust/library");
    if !library.join("std/Cargo.toml").is_file() {
        step("Adding the standard library's source (rustup component add rust-src)");
        let added = command("rustup")
            .args(["component", "add", "rust-src"])
            .status()
            .is_ok_and(|s| s.success());
        if !added || !library.join("std/Cargo.toml").is_file() {
            return Err("rust-src is not installed and `rustup component add rust-src` failed".to_owned());
        }
    }
    step("Fetching the standard library's dependencies (cargo fetch; the size-optimised builds rebuild it offline)");
    let fetched = command("cargo")
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fetch")
        .arg("--manifest-path")
        .arg(library.join("Cargo.toml"))
        .status();
    if !fetched.is_ok_and(|s| s.success()) {
        return Err("the standard library's dependencies could not be fetched".to_owned());
    }
    Ok(())
}

/// The app, built by Trunk in release (wasm-opt -Oz) into dist/, its JavaScript glue and CSS
/// then minified by esbuild (Trunk's own JavaScript minifier cannot parse wasm-bindgen's glue),
/// and their subresource-integrity hashes in dist/index.html renewed to match. The caller has run
/// `setup::ensure_tools`.
pub fn build_app() -> Result<(), String> {
    let esbuild = setup::npm_tool("esbuild");
    // Prepared before the build's own step line, so that each phase is timed by its name.
    size_settings_usable();
    step("Building the app with Trunk (release, size settings) into dist/");
    run_release_build("trunk build", || {
        let mut trunk = command("trunk");
        trunk.args(["build", "--offline", "--release", "--dist", "dist"]);
        trunk
    })?;
    step("Minifying the JavaScript and the CSS (esbuild); renewing the integrity hashes of the page's");
    let dist = crate::repo_root().join("dist");
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index).map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    let minify = |path: &Path| {
        run(
            command(&esbuild.display().to_string())
                .arg(path)
                .args(["--minify", "--log-level=warning", "--allow-overwrite"])
                .arg(format!("--outfile={}", path.display())),
            "esbuild",
        )
    };
    for file in ["app.js", "walkthrough.css"] {
        let path = dist.join(file);
        let before = integrity(&path)?;
        minify(&path)?;
        if !html.contains(&before) {
            return Err(format!(
                "dist/index.html has no integrity hash {before} for {file}: did Trunk change how it writes them?"
            ));
        }
        html = html.replace(&before, &integrity(&path)?);
    }
    // The loaders (copied as they are; no integrity attribute).
    for file in ["frame.js", "embed.js", "embed-frame.js"] {
        minify(&dist.join(file))?;
    }
    std::fs::write(&index, html).map_err(|e| format!("cannot write {}: {e}", index.display()))?;
    step("Naming the app's files by their content (cached for good by the companion)");
    let hashed = name_by_content(&dist)?;
    step("Precompressing the content-hashed files (brotli quality 11, gzip by Zopfli)");
    for file in &hashed {
        precompress(&dist.join(file))?;
    }
    Ok(())
}

/// Writes `<file>.br` (brotli, quality 11, the largest window) and `<file>.gz` (gzip, by
/// Zopfli) beside `file`: the companion serves the one the browser accepts, as it is, and the file
/// itself otherwise (tower-http's precompressed variants).
fn precompress(file: &Path) -> Result<(), String> {
    use std::io::Write as _;
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let with_suffix = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 64 * 1024, 11, 24);
        writer.write_all(&bytes).map_err(|e| format!("brotli: {e}"))?;
    }
    let mut gzip = Vec::new();
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, &bytes[..], &mut gzip)
        .map_err(|e| format!("gzip: {e}"))?;
    for (suffix, compressed) in [(".br", brotli), (".gz", gzip)] {
        let path = with_suffix(suffix);
        std::fs::write(&path, compressed).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The app's files that get content-hashed names, and the files that name them.
const HASHED: [&str; 3] = ["app.js", "app_bg.wasm", "walkthrough.css"];
const NAMING: [&str; 3] = ["index.html", "embed.js", "callback.html"];

/// Renames the app's script, module and styles to `<name>-<16 hex digits of their SHA-256>.<ext>`
/// and writes the new names into the pages and loaders that name them. The companion serves
/// such names with `Cache-Control: immutable` (their bytes never change), so the return from the
/// authorisation server reuses the browser's copy and its compiled module; the pages and
/// loaders keep their names and are revalidated on every use.
fn name_by_content(dist: &Path) -> Result<Vec<String>, String> {
    use sha2::Digest as _;
    let mut renames = Vec::new();
    for file in HASHED {
        let path = dist.join(file);
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let hash: String = sha2::Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let (stem, extension) = file.rsplit_once('.').unwrap_or((file, ""));
        let hashed = format!("{stem}-{hash}.{extension}");
        std::fs::rename(&path, dist.join(&hashed)).map_err(|e| format!("cannot rename {file}: {e}"))?;
        renames.push((format!("/{file}"), format!("/{hashed}")));
    }
    for file in NAMING {
        let path = dist.join(file);
        let mut text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (old, new) in &renames {
            // "/app.js" stands in "/app.js" and "./app.js" alike.
            if !text.contains(old.as_str()) {
                return Err(format!("dist/{file} does not name {old}: did its loader change?"));
            }
            text = text.replace(old.as_str(), new);
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(renames
        .into_iter()
        .map(|(_, new)| new.trim_start_matches('/').to_owned())
        .collect())
}

/// The `integrity` value Trunk writes for a file: `sha384-` and the base64 of its SHA-384.
fn integrity(path: &Path) -> Result<String, String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes))
    ))
}
