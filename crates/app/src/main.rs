//! Mounts the walkthrough; everything else lives in the library so tests can use it.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(walkthrough_app::App);
}
