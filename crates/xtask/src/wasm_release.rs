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
//! cargo-fuzz runs here, and needs the toolchain's `rust-src` component. Where that cannot be
//! had, the build goes on with the stable standard library and says so.

use std::path::Path;
use std::process::Command;

use crate::{command, run, setup, step};

/// Applies the size settings to a cargo or Trunk command that builds wasm32 in release.
pub fn size_optimised(command: &mut Command) -> &mut Command {
    if rust_src_available() {
        command
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            // Cargo adds these to the target's rustflags in .cargo/config.toml.
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none");
    } else {
        println!("    rust-src is not installed and `rustup component add rust-src` failed: building with the stable standard library (a larger wasm)");
    }
    command
}

/// The app, built by Trunk in release (wasm-opt -Oz) into dist/, its JavaScript glue and CSS
/// then minified by esbuild (Trunk's own JavaScript minifier cannot parse wasm-bindgen's glue),
/// and their subresource-integrity hashes in dist/index.html renewed to match. The caller has run
/// `setup::ensure_tools`.
pub fn build_app() -> Result<(), String> {
    let esbuild = setup::npm_tool("esbuild");
    step("Building the app with Trunk (release, size settings) into dist/");
    run(size_optimised(&mut command("trunk")).args(["build", "--offline", "--release"]), "trunk build")?;
    step("Minifying the JavaScript glue and the CSS (esbuild); renewing their integrity hashes");
    let dist = crate::repo_root().join("dist");
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index).map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    for file in ["app.js", "walkthrough.css"] {
        let path = dist.join(file);
        let before = integrity(&path)?;
        run(
            command(&esbuild.display().to_string())
                .arg(&path)
                .args(["--minify", "--log-level=warning", "--allow-overwrite"])
                .arg(format!("--outfile={}", path.display())),
            "esbuild",
        )?;
        if !html.contains(&before) {
            return Err(format!("dist/index.html has no integrity hash {before} for {file}: did Trunk change how it writes them?"));
        }
        html = html.replace(&before, &integrity(&path)?);
    }
    std::fs::write(&index, html).map_err(|e| format!("cannot write {}: {e}", index.display()))
}

/// The `integrity` value Trunk writes for a file: `sha384-` and the base64 of its SHA-384.
fn integrity(path: &Path) -> Result<String, String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes))))
}

/// Whether the toolchain has the standard library's source, adding it with rustup if not.
fn rust_src_available() -> bool {
    let has_source = || {
        command("rustc")
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .is_some_and(|sysroot| Path::new(&sysroot).join("lib/rustlib/src/rust/library/std/Cargo.toml").is_file())
    };
    has_source() || (command("rustup").args(["component", "add", "rust-src"]).status().is_ok_and(|s| s.success()) && has_source())
}
