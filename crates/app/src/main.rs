//! Mounts the walkthrough: into `#pleo-oauth-walkthrough` on a documentation page, else the
//! whole app into the body. Everything else lives in the library so tests can use it.

/// Talc instead of the standard library's dlmalloc: smaller and faster in WebAssembly.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    // Debug builds print a panic's message in the console. Release builds (`cargo xtask
    // build-app`) trap at once on a panic, so a hook would never run; leaving it out keeps the
    // message formatting out of the download.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    if !walkthrough_app::embed::mount_embedded() {
        leptos::mount::mount_to_body(walkthrough_app::App);
    }
}
