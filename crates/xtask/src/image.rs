//! `cargo xtask image`: the companion as a container image (the repository's `Containerfile`):
//! the production companion built as a static binary for `x86_64-unknown-linux-musl` (Debian's
//! `musl-gcc` compiles `ring`'s C), the built app, the CA certificates and a non-root user,
//! `FROM scratch`. The context is assembled in `target/image/`, and podman builds it as
//! [`IMAGE`].

use std::path::{Path, PathBuf};

use crate::{command, copy, repo_root, run, setup, step, target_dir, wasm_release, write};

/// The image's name and tag.
pub const IMAGE: &str = "localhost/pleo-oauth-walkthrough:latest";
/// The static target.
const TARGET: &str = "x86_64-unknown-linux-musl";
/// The user the companion runs as inside the image (no root).
const USER_ID: u32 = 10001;

/// Where the build context is assembled.
pub fn context_dir() -> PathBuf {
    target_dir().join("image")
}

/// Where the static companion is built: a target folder of its own. Its build scripts and
/// procedural macros are host artifacts like those of the wasm builds, which run with
/// `RUSTC_BOOTSTRAP=1`; `proc-macro2`'s build script reads that variable, so sharing one folder
/// made every test run after the first rebuild 56 crates here (100 s) after the PKCE module's
/// build had rebuilt them there.
fn static_target_dir() -> PathBuf {
    target_dir().join("static")
}

/// The static production companion [`build_from_dist`] builds (also the binary the replica tests
/// run).
pub fn static_companion_bin() -> PathBuf {
    static_target_dir().join(TARGET).join("release").join("companion")
}

/// Builds the app, the static companion and the image; returns the image's size in bytes.
pub fn build() -> Result<u64, String> {
    setup::ensure_tools(false)?;
    wasm_release::build_app()?;
    build_from_dist()
}

/// Builds the static companion and the image around the app already built in `dist/`; returns
/// the image's size in bytes.
pub fn build_from_dist() -> Result<u64, String> {
    setup::ensure_rust_target(TARGET)?;
    setup::ensure_image_tools()?;
    step("Building the production companion as a static binary (x86_64-unknown-linux-musl)");
    run(
        crate::production_build()
            .args(["--target", TARGET])
            .arg("--target-dir")
            .arg(static_target_dir())
            .env("CC_x86_64_unknown_linux_musl", "musl-gcc"),
        "cargo build --target x86_64-unknown-linux-musl -p companion",
    )?;
    step("Assembling the image's context in target/image/");
    let context = context_dir();
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(&context).map_err(|e| format!("{}: {e}", context.display()))?;
    copy(&static_companion_bin(), &context.join("companion"))?;
    copy_dir(&repo_root().join("dist"), &context.join("app"))?;
    copy(
        Path::new("/etc/ssl/certs/ca-certificates.crt"),
        &context.join("ca-certificates.crt"),
    )?;
    write(
        &context.join("passwd"),
        &format!("walkthrough:x:{USER_ID}:{USER_ID}:companion:/:/companion\n"),
    )?;
    write(&context.join("group"), &format!("walkthrough:x:{USER_ID}:\n"))?;
    step(&format!("Building the image {IMAGE} (podman build, FROM scratch)"));
    run(
        command("podman")
            .args(["build", "--quiet", "-f"])
            .arg(repo_root().join("Containerfile"))
            .args(["-t", IMAGE])
            .arg(&context),
        "podman build",
    )?;
    let output = command("podman")
        .args(["image", "inspect", "--format", "{{.Size}}", IMAGE])
        .output()
        .map_err(|e| format!("podman image inspect: {e}"))?;
    let size: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| "podman image inspect did not say the image's size".to_owned())?;
    println!("    {IMAGE}: {size} B ({:.1} MB)", size as f64 / 1e6);
    Ok(size)
}

/// `from` and everything under it, copied to `to` (dotfiles left out, as the companion never
/// serves them).
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            copy(&path, &to.join(&name))?;
        }
    }
    Ok(())
}
