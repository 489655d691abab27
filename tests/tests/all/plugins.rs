//! WebAssembly plugins: install, upgrade, disable and remove without a
//! restart; validation at install; hostile plugins contained; parallel calls
//! beyond the instance bound queue and complete.

use std::path::{Path, PathBuf};

use cairn::plugins::{system_viewer, Capability, Manifest};
use cairn_tests::{build_plugin, TestNode};

mod containment;
mod first_party;
mod leaks;
mod lifecycle;
mod media;
mod people;

fn hello_dir() -> PathBuf {
    build_plugin("examples/hello-rust", &[])
}

fn hostile_dir() -> PathBuf {
    build_plugin("tests/plugins/hostile", &[])
}

fn manifest_of(dir: &Path) -> (Manifest, Vec<u8>) {
    let m =
        Manifest::parse(&std::fs::read_to_string(dir.join("cairn-plugin.toml")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join(m.component.as_ref().unwrap())).unwrap();
    (m, bytes)
}

async fn page_html(node: &TestNode, body: &str) -> String {
    let c = node.login("admin").await;
    let key = format!("P{}", rand_suffix());
    c.create_space(&key, "Plugin space").await;
    let id = c.create_page(&key, "Plugin page", body, None).await;
    c.view_page(id).await
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn call(name: &str) -> String {
    format!("<ac:structured-macro ac:name=\"{name}\"><ac:parameter ac:name=\"name\">Ada</ac:parameter></ac:structured-macro>")
}

/// The hostile plugin with everything it asks for granted (its manifest sets
/// a time limit above the site default, so the limits too).
async fn install_hostile(node: &TestNode) -> cairn::plugins::Plugins {
    let plugins = node.state.plugins.clone();
    let (m, bytes) = manifest_of(&hostile_dir());
    plugins
        .install_granting(
            &system_viewer(),
            m,
            bytes,
            &[Capability::Log, Capability::Content, Capability::Kv],
            true,
            false,
        )
        .await
        .unwrap();
    plugins
}

/// What a viewer gets for page `id` (status, html).
async fn try_view(c: &cairn_tests::Client, id: i64) -> (u16, String) {
    let (s, _, html) = c
        .follow(&format!("/pages/viewpage.action?pageId={id}"))
        .await;
    (s, html)
}
