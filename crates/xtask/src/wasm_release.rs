//! Release builds of the WebAssembly that users download: the walkthrough app and the PKCE
//! package, each built by cargo, wasm-bindgen, wasm-opt and esbuild.
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
//! cargo-fuzz runs here. They need the toolchain's `rust-src` and, for a build that runs offline,
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

/// The app as users download it, in dist/, from the page template `index.html` that Trunk
/// also reads (`trunk serve`, the development loop): the app crate built for wasm32 (release,
/// size settings), its glue made by wasm-bindgen and bundled and minified by esbuild, the wasm
/// optimised by wasm-opt -Oz, the styles minified, the files the template's
/// `data-trunk rel="copy-file"` links name copied (loaders minified), and the page written with
/// what Trunk writes in place of its links (the start script, the stylesheet, the preloads, with
/// subresource-integrity hashes). It needs no Trunk, whose own build from source is the longest
/// step of a first run. The caller has run `setup::ensure_tools`.
pub fn build_app() -> Result<(), String> {
    let root = crate::repo_root();
    let template =
        std::fs::read_to_string(root.join("index.html")).map_err(|e| format!("cannot read index.html: {e}"))?;
    let links = TemplateLinks::of(&template)?;
    // Prepared before the build's own step line, so that each phase is timed by its name.
    size_settings_usable();
    step("Building the app (release, wasm32, size settings)");
    run_release_build("cargo build -p app", || {
        let mut cargo = wasm32_release("app");
        cargo.args(["--bin", "app"]);
        cargo
    })?;
    let dist = root.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    step("Generating the app's JavaScript glue (wasm-bindgen --target web)");
    generate_glue(
        &root.join("target/wasm32-unknown-unknown/release/app.wasm"),
        &dist,
        "app",
        false,
    )?;
    step("Optimising the app for size (wasm-opt -Oz)");
    optimise_for_size(&dist.join("app_bg.wasm"))?;
    step("Bundling and minifying the JavaScript, minifying the CSS (esbuild); the page and its integrity hashes");
    bundle_glue(&dist.join("app.js"))?;
    let _ = std::fs::remove_dir_all(dist.join("snippets"));
    let css = dist.join(APP_CSS);
    crate::copy(&root.join(&links.stylesheet), &css)?;
    minify(&css)?;
    for file in &links.copied {
        let name = Path::new(file).file_name().unwrap_or_default();
        let copy = dist.join(name);
        crate::copy(&root.join(file), &copy)?;
        if name.to_string_lossy().ends_with(".js") {
            minify(&copy)?;
        }
    }
    crate::write(&dist.join("index.html"), &links.page(&template, &dist)?)?;
    step("Naming the app's files by their content (cached for good by the companion)");
    let hashed = name_by_content(&dist)?;
    step("Precompressing the content-hashed files (brotli quality 11, gzip by Zopfli)");
    for (file, slot) in hashed.iter().zip(HASHED) {
        precompress(&dist.join(file), slot)?;
    }
    Ok(())
}

/// The app's styles as dist/ names them (Trunk's `rel="css"` link keeps the file's name).
const APP_CSS: &str = "walkthrough.css";

/// What the template's `data-trunk` links name: the stylesheet and the files copied as they are.
#[derive(Debug)]
struct TemplateLinks {
    /// The template's lines that are `data-trunk` links, each whole.
    lines: Vec<String>,
    /// `rel="css"`: the stylesheet's path in the repository.
    stylesheet: String,
    /// `rel="copy-file"`: the paths in the repository of the files copied into dist/.
    copied: Vec<String>,
}

impl TemplateLinks {
    fn of(template: &str) -> Result<Self, String> {
        let attribute = |line: &str, name: &str| {
            let key = format!("{name}=\"");
            let start = line.find(&key)? + key.len();
            Some(line[start..].split('"').next()?.to_owned())
        };
        let mut links = Self {
            lines: Vec::new(),
            stylesheet: String::new(),
            copied: Vec::new(),
        };
        for line in template.lines().filter(|line| line.contains("data-trunk")) {
            links.lines.push(line.to_owned());
            let href =
                attribute(line, "href").ok_or_else(|| format!("index.html: a data-trunk link with no href: {line}"))?;
            match attribute(line, "rel").as_deref() {
                Some("rust") => {}
                Some("css") => links.stylesheet = href,
                Some("copy-file") => links.copied.push(href),
                other => {
                    return Err(format!(
                        "index.html: a data-trunk link of rel {other:?} the build does not know"
                    ));
                }
            }
        }
        // dist/ and the content-hashed names ([`HASHED`]) know the styles by this one name.
        if Path::new(&links.stylesheet).file_name() != Some(std::ffi::OsStr::new(APP_CSS)) {
            return Err(format!(
                "index.html's data-trunk stylesheet is {:?}, not a file named {APP_CSS}",
                links.stylesheet
            ));
        }
        Ok(links)
    }

    /// The page as users download it: the template with its `rust` link replaced by the script
    /// that starts the app, its `css` link by the stylesheet, its `copy-file` links left out,
    /// and the preloads of the glue and the wasm before `</head>`, as Trunk writes them; every
    /// integrity hash from the files in `dist` as they are now.
    fn page(&self, template: &str, dist: &Path) -> Result<String, String> {
        let start = "<script type=\"module\">\nimport init, * as bindings from '/app.js';\nconst wasm = await init({ module_or_path: '/app_bg.wasm' });\nwindow.wasmBindings = bindings;\ndispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));\n</script>";
        let stylesheet = format!(
            "<link rel=\"stylesheet\" href=\"/{APP_CSS}\" integrity=\"{}\"/>",
            integrity(&dist.join(APP_CSS))?
        );
        let preloads = format!(
            "<link rel=\"modulepreload\" href=\"/app.js\" crossorigin=\"anonymous\" integrity=\"{}\"><link rel=\"preload\" href=\"/app_bg.wasm\" crossorigin=\"anonymous\" integrity=\"{}\" as=\"fetch\" type=\"application/wasm\"></head>",
            integrity(&dist.join("app.js"))?,
            integrity(&dist.join("app_bg.wasm"))?
        );
        let mut page = String::with_capacity(template.len() + 1024);
        for line in template.lines() {
            if self.lines.iter().any(|link| link == line) {
                let indent = &line[..line.len() - line.trim_start().len()];
                if line.contains("rel=\"rust\"") {
                    page.push_str(indent);
                    page.push_str(start);
                    page.push('\n');
                } else if line.contains("rel=\"css\"") {
                    page.push_str(indent);
                    page.push_str(&stylesheet);
                    page.push('\n');
                }
                continue;
            }
            page.push_str(line);
            page.push('\n');
        }
        if !page.contains("</head>") {
            return Err("index.html has no </head>".to_owned());
        }
        Ok(page.replacen("</head>", &preloads, 1))
    }
}

/// `cargo build --release --target wasm32-unknown-unknown -p <package>`: the wasm lands in
/// `target/wasm32-unknown-unknown/release/`.
pub fn wasm32_release(package: &str) -> Command {
    let mut cargo = command("cargo");
    cargo.args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
    ]);
    cargo
}

/// `wasm-bindgen --target web` of `wasm` into `out`, as `<name>.js` and `<name>_bg.wasm`, with
/// TypeScript definitions when `typescript`.
pub fn generate_glue(wasm: &Path, out: &Path, name: &str, typescript: bool) -> Result<(), String> {
    let mut bindgen = command("wasm-bindgen");
    if !typescript {
        bindgen.arg("--no-typescript");
    }
    run(
        bindgen
            .args(["--target", "web"])
            .arg("--out-dir")
            .arg(out)
            .args(["--out-name", name])
            .arg(wasm),
        "wasm-bindgen",
    )
}

/// `wasm-opt -Oz` of `wasm` in place, with the features rustc's wasm32 target emits, its
/// producers and target-features sections left out.
pub fn optimise_for_size(wasm: &Path) -> Result<(), String> {
    let slot = format!("wasm-opt.{}", wasm.file_name().unwrap_or_default().to_string_lossy());
    let input = crate::read_bytes(wasm)?;
    // Every setting is part of the cache's key: a change of any makes wasm-opt run again.
    let settings: Vec<&str> = setup::WASM_OPT_FEATURES
        .iter()
        .copied()
        .chain(["-Oz", "--strip-producers", "--strip-target-features"])
        .collect();
    let key: Vec<&str> = ["wasm-opt", setup::BINARYEN_VERSION]
        .into_iter()
        .chain(settings.iter().copied())
        .collect();
    let outputs = cached(&slot, &key, &input, &[""], || {
        run(
            command(&setup::npm_tool("wasm-opt").display().to_string())
                .args(&settings)
                .arg(wasm)
                .arg("-o")
                .arg(wasm),
            "wasm-opt",
        )?;
        Ok(vec![crate::read_bytes(wasm)?])
    })?;
    std::fs::write(wasm, &outputs[0]).map_err(|e| format!("cannot write {}: {e}", wasm.display()))
}

/// The outputs of a slow step that always makes the same bytes of the same input (wasm-opt,
/// brotli, Zopfli), kept in `target/build-cache/` under a hash of the step (`key`: tool, version,
/// settings) and the input, so that a build of unchanged sources (the test command after the
/// demo, every steady run) does each once. `slot` names the file the step is for: a new entry
/// replaces the slot's old one, so the cache holds one entry per file. `suffixes` name the
/// outputs; `make` computes them (in that order) when they are not kept.
fn cached(
    slot: &str,
    key: &[&str],
    input: &[u8],
    suffixes: &[&str],
    make: impl FnOnce() -> Result<Vec<Vec<u8>>, String>,
) -> Result<Vec<Vec<u8>>, String> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in key {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(input);
    let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let dir = crate::target_dir().join("build-cache");
    let entry = |suffix: &str| dir.join(format!("{slot}.{hash}{suffix}"));
    if let Ok(kept) = suffixes
        .iter()
        .map(|s| std::fs::read(entry(s)))
        .collect::<Result<Vec<_>, _>>()
    {
        return Ok(kept);
    }
    let outputs = make()?;
    // The slot's older entries go; a cache that cannot be written only costs the next build time.
    if let Ok(old) = std::fs::read_dir(&dir) {
        for file in old.flatten() {
            if file.file_name().to_string_lossy().starts_with(&format!("{slot}.")) {
                let _ = std::fs::remove_file(file.path());
            }
        }
    }
    let _ = std::fs::create_dir_all(&dir);
    for (suffix, output) in suffixes.iter().zip(&outputs) {
        let _ = std::fs::write(entry(suffix), output);
    }
    Ok(outputs)
}

/// wasm-bindgen's glue `glue` with its snippets bundled in, minified, in place (esbuild).
pub fn bundle_glue(glue: &Path) -> Result<(), String> {
    run(
        command(&setup::npm_tool("esbuild").display().to_string())
            .arg(glue)
            .args([
                "--bundle",
                "--minify",
                "--format=esm",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(format!("--outfile={}", glue.display())),
        "esbuild",
    )
}

/// `file` minified in place (esbuild, by its extension).
fn minify(file: &Path) -> Result<(), String> {
    run(
        command(&setup::npm_tool("esbuild").display().to_string())
            .arg(file)
            .args(["--minify", "--log-level=warning", "--allow-overwrite"])
            .arg(format!("--outfile={}", file.display())),
        "esbuild",
    )
}

/// Brotli's quality for the copies: the highest.
const BROTLI_QUALITY: u32 = 11;
/// Brotli's window for the copies: the largest (log2 of its bytes).
const BROTLI_WINDOW: u32 = 24;

/// Writes `<file>.br` (brotli, quality 11, the largest window) and `<file>.gz` (gzip, by
/// Zopfli) beside `file`: the companion serves the one the browser accepts, as it is, and the file
/// itself otherwise (tower-http's precompressed variants). `slot` is the file's name before its
/// content hash, under which [`cached`] keeps the two.
fn precompress(file: &Path, slot: &str) -> Result<(), String> {
    use std::io::Write as _;
    let bytes = crate::read_bytes(file)?;
    let with_suffix = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let suffixes = [".br", ".gz"];
    // The settings below, as the cache's key: a change of either makes the copies again.
    let brotli_settings = format!("brotli quality {BROTLI_QUALITY} window {BROTLI_WINDOW}");
    let compressed = cached(
        &format!("compressed.{slot}"),
        &[&brotli_settings, "zopfli gzip default options"],
        &bytes,
        &suffixes,
        || {
            let mut brotli = Vec::new();
            {
                let mut writer = brotli::CompressorWriter::new(&mut brotli, 64 * 1024, BROTLI_QUALITY, BROTLI_WINDOW);
                writer.write_all(&bytes).map_err(|e| format!("brotli: {e}"))?;
            }
            let mut gzip = Vec::new();
            zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, &bytes[..], &mut gzip)
                .map_err(|e| format!("gzip: {e}"))?;
            Ok(vec![brotli, gzip])
        },
    )?;
    for (suffix, compressed) in suffixes.into_iter().zip(compressed) {
        let path = with_suffix(suffix);
        std::fs::write(&path, compressed).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The app's files that get content-hashed names, and the files that name them.
const HASHED: [&str; 3] = ["app.js", "app_bg.wasm", APP_CSS];
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
        let bytes = crate::read_bytes(&path)?;
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
        let mut text = crate::read(&path)?;
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

/// A file's `integrity` value as Trunk writes it: `sha384-` and the base64 of its SHA-384.
fn integrity(path: &Path) -> Result<String, String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = crate::read_bytes(path)?;
    Ok(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_step_runs_once_per_input_and_keeps_one_entry_per_slot() {
        let slot = format!("test-slot-{}", std::process::id());
        let runs = std::cell::Cell::new(0);
        let step = |input: &[u8]| {
            cached(&slot, &["double"], input, &[".a", ".b"], || {
                runs.set(runs.get() + 1);
                Ok(vec![input.repeat(2), input.to_vec()])
            })
            .unwrap()
        };
        assert_eq!(step(b"x"), [b"xx".to_vec(), b"x".to_vec()]);
        assert_eq!(step(b"x"), [b"xx".to_vec(), b"x".to_vec()]);
        assert_eq!(runs.get(), 1, "the second call read what the first kept");
        assert_eq!(step(b"y"), [b"yy".to_vec(), b"y".to_vec()]);
        assert_eq!(runs.get(), 2);
        let dir = crate::target_dir().join("build-cache");
        let kept: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().starts_with(&format!("{slot}.")))
            .collect();
        assert_eq!(kept.len(), 2, "only the newest input's two outputs stay");
        for file in kept {
            std::fs::remove_file(file.path()).unwrap();
        }
    }

    const TEMPLATE: &str = "<html>\n  <head>\n    <title>t</title>\n    <link data-trunk rel=\"rust\" href=\"crates/app/Cargo.toml\" data-bin=\"app\" />\n    <link data-trunk rel=\"css\" href=\"www/walkthrough.css\" />\n    <link data-trunk rel=\"copy-file\" href=\"www/frame.js\" />\n  </head>\n  <body></body>\n</html>\n";

    #[test]
    fn the_page_has_what_trunk_writes_for_each_link_and_no_link_of_trunks() {
        let links = TemplateLinks::of(TEMPLATE).unwrap();
        assert_eq!(links.stylesheet, "www/walkthrough.css");
        assert_eq!(links.copied, ["www/frame.js"]);
        let dist = std::env::temp_dir().join(format!("xtask-page-{}", std::process::id()));
        std::fs::create_dir_all(&dist).unwrap();
        for (file, text) in [("app.js", "js"), ("app_bg.wasm", "wasm"), (APP_CSS, "css")] {
            std::fs::write(dist.join(file), text).unwrap();
        }
        let page = links.page(TEMPLATE, &dist).unwrap();
        std::fs::remove_dir_all(&dist).unwrap();
        assert!(!page.contains("data-trunk"), "{page}");
        assert!(page.contains("import init, * as bindings from '/app.js'"), "{page}");
        assert!(page.contains("module_or_path: '/app_bg.wasm'"), "{page}");
        let sha384 = |text: &str| {
            use base64::Engine as _;
            use sha2::Digest as _;
            format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(text.as_bytes()))
            )
        };
        assert!(
            page.contains(&format!("href=\"/walkthrough.css\" integrity=\"{}\"", sha384("css"))),
            "{page}"
        );
        let preloads = page.find("rel=\"modulepreload\"").unwrap();
        assert!(
            preloads < page.find("</head>").unwrap() && page.contains(&sha384("wasm")),
            "{page}"
        );
        assert!(
            page.find("<title>").unwrap() < page.find("<script").unwrap(),
            "in the rust link's place"
        );
    }

    #[test]
    fn a_template_link_the_build_does_not_know_is_refused() {
        let unknown = TEMPLATE.replace("rel=\"copy-file\"", "rel=\"copy-dir\"");
        assert!(TemplateLinks::of(&unknown).unwrap_err().contains("copy-dir"));
        let renamed = TEMPLATE.replace("www/walkthrough.css", "www/styles.css");
        assert!(TemplateLinks::of(&renamed).unwrap_err().contains("styles.css"));
    }
}
