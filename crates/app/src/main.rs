//! Mounts the walkthrough: into `#pleo-oauth-walkthrough` on a documentation page, else the
//! whole app into the body. Everything else lives in the library so tests can use it.

fn main() {
    console_error_panic_hook::set_once();
    if !walkthrough_app::embed::mount_embedded() {
        leptos::mount::mount_to_body(walkthrough_app::App);
    }
}
