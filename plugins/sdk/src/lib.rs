//! The Cairn plugin SDK for Rust.
//!
//! A macro plugin is a type implementing [`Macros`] plus one line, `export!(MyPlugin);`.
//! Build it with `cargo build --release --target wasm32-wasip2`; the `.wasm` file in
//! `target/wasm32-wasip2/release/` is the component to install. See PLUGINS.md.
//!
//! ```ignore
//! use cairn_plugin_sdk::*;
//!
//! struct Hello;
//! impl Macros for Hello {
//!     fn describe() -> Vec<MacroSpec> {
//!         vec![MacroSpec::new("hello", "Hello").cacheable(true)]
//!     }
//!     fn render(call: MacroCall, _ctx: RenderContext) -> Result<String, RenderError> {
//!         Ok(format!("<p>Hello, {}!</p>", escape(call.param("name").unwrap_or("world"))))
//!     }
//! }
//! export!(Hello);
//! ```
//!
//! Helpers: [`escape`] / [`escape_into`] for text and attribute values, [`class_token`]
//! for CSS classes built from parameters, [`MacroCall::param`] and friends for
//! parameters, [`fail`] for errors, and [`check_manifest`] to test that a plugin's
//! `cairn-plugin.toml` agrees with its `describe()`.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cairn:plugin/macro-plugin@0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "cairn_plugin_sdk::bindings",
        generate_all,
    });
}

pub use bindings::cairn::plugin::content;
pub use bindings::cairn::plugin::kv;
pub use bindings::cairn::plugin::people;
pub use bindings::cairn::plugin::tasks;
pub use bindings::cairn::plugin::types::{
    BodyKind, Heading, MacroCall, MacroSpec, OutputKind, OutputTarget, ParamSpec, ParamType,
    RenderContext, RenderError, User,
};
pub use bindings::exports::cairn::plugin::macros::Guest as Macros;

/// Exports the plugin's macros from two expressions, without a type of its own:
/// `describe` gives the specs, `render` the output of one call (`|call, ctx|` binds the
/// [`MacroCall`] and the [`RenderContext`]).
///
/// ```ignore
/// export_macros! {
///     describe: specs(),
///     render: |call, _ctx| render(&call),
/// }
/// ```
#[macro_export]
macro_rules! export_macros {
    (describe: $describe:expr, render: |$call:ident, $ctx:tt| $render:expr $(,)?) => {
        struct CairnPluginMacros;

        impl $crate::Macros for CairnPluginMacros {
            fn describe() -> Vec<$crate::MacroSpec> {
                $describe
            }

            fn render(
                $call: $crate::MacroCall,
                $ctx: $crate::RenderContext,
            ) -> Result<String, $crate::RenderError> {
                $render
            }
        }

        $crate::export!(CairnPluginMacros);
    };
}

/// Exports a type implementing [`Macros`] as the plugin's `macros` interface.
#[macro_export]
macro_rules! export {
    ($t:ident) => {
        $crate::bindings::export_bindings!($t);
    };
}

/// Writes to the node's log (capability `log`).
pub mod log {
    pub use crate::bindings::cairn::plugin::log::Level;
    pub fn info(msg: &str) {
        crate::bindings::cairn::plugin::log::log(Level::Info, msg);
    }
    pub fn warn(msg: &str) {
        crate::bindings::cairn::plugin::log::log(Level::Warn, msg);
    }
    pub fn error(msg: &str) {
        crate::bindings::cairn::plugin::log::log(Level::Error, msg);
    }
}

/// The plugin's configuration (capability `config`).
pub mod config {
    pub use crate::bindings::cairn::plugin::config::{all, get};
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Reduces a value to a token safe inside a `class` attribute: ASCII letters, digits and
/// `-_+#.` only, at most 64 characters (everything else is dropped). Use it for CSS
/// classes built from parameters, e.g. `language-{class_token(lang)}`.
pub fn class_token(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
        .take(64)
        .collect()
}

impl MacroCall {
    /// A block call of macro `name` with `params` and a body of `kind` (how tests and
    /// tools build calls).
    pub fn new(name: &str, params: &[(&str, &str)], kind: BodyKind, body: &str) -> MacroCall {
        MacroCall {
            name: name.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body_kind: kind,
            body: body.into(),
            output: OutputKind::Block,
        }
    }

    /// A parameter's value (`""` is the unnamed parameter); names compare ASCII
    /// case-insensitively, as Confluence does.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not blank, trimmed.
    pub fn param_nonempty(&self, name: &str) -> Option<&str> {
        self.param(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A boolean parameter: "true", "1", "yes" or "on" (any case) are true.
    pub fn flag(&self, name: &str) -> bool {
        self.param(name).is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "on"
            )
        })
    }

    /// An integer parameter; `Err` names the parameter when it is not a number.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, RenderError> {
        match self.param_nonempty(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                RenderError::InvalidParameter((name.to_string(), format!("{v:?} is not a number")))
            }),
        }
    }

    /// Whether the call is inline (in running text).
    pub fn is_inline(&self) -> bool {
        matches!(self.output, OutputKind::Inline)
    }
}

impl MacroSpec {
    /// A block macro without body or parameters, not cacheable.
    pub fn new(name: &str, title: &str) -> Self {
        MacroSpec {
            name: name.into(),
            title: title.into(),
            description: String::new(),
            body: BodyKind::None,
            output: OutputKind::Block,
            params: Vec::new(),
            cacheable: false,
        }
    }
    pub fn description(mut self, d: &str) -> Self {
        self.description = d.into();
        self
    }
    pub fn body(mut self, b: BodyKind) -> Self {
        self.body = b;
        self
    }
    pub fn inline(mut self) -> Self {
        self.output = OutputKind::Inline;
        self
    }
    pub fn cacheable(mut self, c: bool) -> Self {
        self.cacheable = c;
        self
    }
    pub fn param(mut self, p: ParamSpec) -> Self {
        self.params.push(p);
        self
    }
}

impl ParamSpec {
    /// An optional string parameter.
    pub fn new(name: &str, description: &str) -> Self {
        ParamSpec {
            name: name.into(),
            type_: ParamType::String,
            required: false,
            default: None,
            description: description.into(),
            values: Vec::new(),
        }
    }
    pub fn of(mut self, t: ParamType) -> Self {
        self.type_ = t;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn default(mut self, v: &str) -> Self {
        self.default = Some(v.into());
        self
    }
    pub fn values(mut self, vs: &[&str]) -> Self {
        self.type_ = ParamType::Enum;
        self.values = vs.iter().map(|v| v.to_string()).collect();
        self
    }
}

/// A `RenderError::Failed` with a message.
pub fn fail(msg: impl Into<String>) -> RenderError {
    RenderError::Failed(msg.into())
}

/// Checks that a plugin manifest (`cairn-plugin.toml`) lists exactly the macros and
/// parameter names that `describe()` gives, in the same order — the host refuses a plugin
/// whose manifest and component disagree. Meant for a plugin's unit tests (it runs
/// natively):
///
/// ```ignore
/// #[test]
/// fn manifest_matches_describe() {
///     cairn_plugin_sdk::check_manifest(include_str!("../cairn-plugin.toml"), &MyPlugin::describe())
///         .unwrap();
/// }
/// ```
///
/// It reads only the `[[macros]]` tables' `name` and `params` keys (basic strings), not
/// TOML in general.
pub fn check_manifest(manifest: &str, specs: &[MacroSpec]) -> Result<(), String> {
    let listed = manifest_macros(manifest)?;
    let described: Vec<(String, Vec<String>)> = specs
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.params.iter().map(|p| p.name.clone()).collect(),
            )
        })
        .collect();
    if listed == described {
        Ok(())
    } else {
        Err(format!(
            "the manifest lists {listed:?} but describe() gives {described:?}"
        ))
    }
}

/// `(name, params)` of each `[[macros]]` table of a manifest.
fn manifest_macros(manifest: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_macros = false;
    let mut lines = manifest.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.starts_with('[') {
            in_macros = line == "[[macros]]";
            if in_macros {
                out.push((String::new(), Vec::new()));
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Some(current) = out.last_mut().filter(|_| in_macros) else {
            continue;
        };
        match key.trim() {
            "name" => {
                current.0 = toml_strings(value)
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("bad macro name: {value}"))?
            }
            "params" => {
                let mut text = value.to_string();
                while !text.contains(']') {
                    match lines.next() {
                        Some(more) => {
                            text.push('\n');
                            text.push_str(more);
                        }
                        None => return Err("unterminated params list".into()),
                    }
                }
                current.1 = toml_strings(&text);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The basic strings ("…") in a piece of TOML, comments skipped.
fn toml_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                // A comment runs to the end of its line.
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    other => other,
                                });
                            }
                        }
                        '"' => break,
                        d => s.push(d),
                    }
                }
                out.push(s);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_check() {
        let m = "id = \"x\"\n[[macros]]\nname = \"a\" # c\nparams = [\"p\", \"\",\n  \"q\"]\n[limits]\nname = \"zz\"\n[[macros]]\nname = \"b\"\n";
        let specs = vec![
            MacroSpec::new("a", "A")
                .param(ParamSpec::new("p", ""))
                .param(ParamSpec::new("", ""))
                .param(ParamSpec::new("q", "")),
            MacroSpec::new("b", "B"),
        ];
        assert_eq!(check_manifest(m, &specs), Ok(()));
        assert!(check_manifest(m, &specs[..1]).is_err());
        assert_eq!(class_token("a b<\"c#+.-_"), "abc#+.-_");
    }
}
