//! From bytes to a linked component: checking the binary, compiling it
//! (cached in memory and on disk), inspecting what it imports and exports,
//! and linking exactly the granted capabilities.
//!
//! Invariant: a component is linked with WASI (an empty context) and the
//! capabilities it was granted, nothing else; an import Cairn does not
//! provide, or a WIT version it does not support, is refused with a
//! message a plugin author can act on.

use std::path::Path;

use wasmtime::component::{Component, HasSelf, InstancePre, Linker};

use super::bindings;
use super::clocks::no_sleeping;
use super::{HostState, Runtime, WIT_VERSION};
use crate::plugins::manifest::Capability;
use crate::sync::Recover;

/// Compiled components kept in memory; beyond this the cache starts afresh.
pub(super) const MAX_COMPILED_IN_MEMORY: usize = 64;

impl Runtime {
    /// Checks that `bytes` is a component at all, with a message a plugin
    /// author can act on.
    pub(crate) fn check_binary(bytes: &[u8]) -> Result<(), String> {
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            return Err("not a WebAssembly file (it does not start with the \\0asm header)".into());
        }
        let layer = u16::from_le_bytes([bytes[6], bytes[7]]);
        if layer == 0 {
            return Err(
                "this is a core WebAssembly module, not a component: build it for the \
                 wasm32-wasip2 target (or wrap it with `wasm-tools component new`)"
                    .into(),
            );
        }
        if layer != 1 {
            return Err(format!("unknown WebAssembly layer {layer}"));
        }
        Ok(())
    }

    /// Compiles a component, or takes it from this process's in-memory cache,
    /// or loads it from the compiled cache in `cache_dir` (each keyed by
    /// content hash; the file also by engine compatibility).
    pub(crate) fn compile(
        &self,
        bytes: &[u8],
        hash: &str,
        cache_dir: Option<&Path>,
    ) -> Result<Component, String> {
        Self::check_binary(bytes)?;
        if let Some(c) = self.compiled.lock().recover().get(hash) {
            return Ok(c.clone());
        }
        let component = self.compile_uncached(bytes, hash, cache_dir)?;
        let mut compiled = self.compiled.lock().recover();
        if compiled.len() >= MAX_COMPILED_IN_MEMORY {
            compiled.clear();
        }
        compiled.insert(hash.to_string(), component.clone());
        Ok(component)
    }

    pub(super) fn compile_uncached(
        &self,
        bytes: &[u8],
        hash: &str,
        cache_dir: Option<&Path>,
    ) -> Result<Component, String> {
        let cached = cache_dir.map(|d| d.join(format!("{hash}-{}.cwasm", self.compat)));
        if let Some(path) = &cached {
            if path.exists() {
                // SAFETY: the file is one this process family wrote with
                // `Component::serialize` for an engine with the same
                // compatibility hash, in the node's private local home;
                // wasmtime still checks the header and engine settings.
                match unsafe { Component::deserialize_file(&self.engine, path) } {
                    Ok(c) => return Ok(c),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "compiled plugin cache unusable; recompiling");
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| {
            let msg = format!("{e:#}");
            if msg.contains("end of file") || msg.contains("unexpected end") {
                format!("the component is truncated or corrupt ({msg})")
            } else {
                format!("the component does not compile: {msg}")
            }
        })?;
        if let Some(path) = cached {
            if let Ok(ser) = component.serialize() {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                if let Some(d) = path.parent() {
                    let _ = std::fs::create_dir_all(d);
                }
                if std::fs::write(&tmp, ser).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                } else {
                    let _ = std::fs::remove_file(&tmp);
                }
            }
        }
        Ok(component)
    }

    /// What a component imports from Cairn (capabilities) and which of
    /// Cairn's interfaces it exports; an error for any import Cairn does not
    /// provide or a version it does not support.
    pub(crate) fn inspect(&self, component: &Component) -> Result<Inspection, String> {
        let ty = component.component_type();
        let mut out = Inspection::default();
        for (name, _) in ty.imports(&self.engine) {
            if name.starts_with("wasi:") {
                if !WASI_ALLOWED.iter().any(|p| name.starts_with(p)) {
                    return Err(format!(
                        "the component imports {name}, which Cairn does not provide to plugins"
                    ));
                }
                continue;
            }
            let (iface, version) = split_cairn(name).ok_or_else(|| {
                format!("the component imports {name}, which Cairn does not provide to plugins")
            })?;
            check_version(name, version)?;
            if iface == "types" {
                continue;
            }
            let cap = Capability::parse(iface).ok_or_else(|| {
                format!("the component imports {name}, which this Cairn does not provide")
            })?;
            out.imports.push(cap);
        }
        for (name, _) in ty.exports(&self.engine) {
            if let Some((iface, version)) = split_cairn(name) {
                check_version(name, version)?;
                match iface {
                    "macros" => out.exports_macros = true,
                    "admin" => out.exports_admin = true,
                    "events" => out.exports_events = true,
                    _ => {}
                }
            }
        }
        out.imports.sort();
        out.imports.dedup();
        Ok(out)
    }

    /// Links `component` with WASI (empty context) and exactly the granted
    /// capabilities, and pre-instantiates it.
    pub(crate) fn link(
        &self,
        component: &Component,
        granted: &[Capability],
    ) -> Result<InstancePre<HostState>, String> {
        let mut linker: Linker<HostState> = Linker::new(&self.engine);
        let err = |e: wasmtime::Error| format!("linking: {e:#}");
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(err)?;
        no_sleeping(&mut linker).map_err(err)?;
        bindings::cairn::plugin::types::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(err)?;
        for cap in granted {
            match cap {
                Capability::Log => bindings::cairn::plugin::log::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Content => bindings::cairn::plugin::content::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Kv => bindings::cairn::plugin::kv::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Config => bindings::cairn::plugin::config::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::Tasks => bindings::cairn::plugin::tasks::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
                Capability::People => bindings::cairn::plugin::people::add_to_linker::<
                    HostState,
                    HasSelf<HostState>,
                >(&mut linker, |s| s),
            }
            .map_err(err)?;
        }
        linker.instantiate_pre(component).map_err(|e| {
            let msg = format!("{e:#}");
            if msg.contains("cairn:plugin/") {
                format!("the component needs a capability that was not granted: {msg}")
            } else {
                format!("the component cannot be linked: {msg}")
            }
        })
    }
}

pub(super) const WASI_ALLOWED: &[&str] = &[
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

pub(super) fn split_cairn(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("cairn:plugin/")?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

pub(super) fn check_version(name: &str, v: &str) -> Result<(), String> {
    let Some((major, minor, _)) = crate::plugins::manifest::parse_version(v) else {
        return Err(format!("{name}: unversioned Cairn interface"));
    };
    let (hm, hn, _) = WIT_VERSION;
    if major != hm || (major == 0 && minor != hn) || (major == 0 && minor > hn) {
        return Err(format!(
            "{name}: built against cairn:plugin@{v}, but this Cairn supports {hm}.{hn}.x"
        ));
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct Inspection {
    pub imports: Vec<Capability>,
    pub exports_macros: bool,
    pub exports_admin: bool,
    pub exports_events: bool,
}
