//! The plugin manifest (`cairn-plugin.toml`): who the plugin is, which worlds
//! it implements, the macros it provides and the capabilities it asks for.

use serde::{Deserialize, Serialize};

/// A host capability: one WIT interface a plugin may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Log,
    Content,
    Kv,
    Config,
    Tasks,
    People,
}

impl Capability {
    pub const ALL: [Capability; 6] = [
        Capability::Log,
        Capability::Content,
        Capability::Kv,
        Capability::Config,
        Capability::Tasks,
        Capability::People,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Content => "content",
            Capability::Kv => "kv",
            Capability::Config => "config",
            Capability::Tasks => "tasks",
            Capability::People => "people",
        }
    }

    pub fn parse(s: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == s.trim())
    }

    /// What granting it means, for the admin's install form.
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Capability::Log => "write to the node's log",
            Capability::Content => {
                "read pages, children, attachment metadata and labels as the viewing user"
            }
            Capability::Kv => "store its own data in the database",
            Capability::Config => "read its own configuration",
            Capability::Tasks => "read the task lists of pages as the viewing user",
            Capability::People => {
                "read people's profiles, and who contributed to pages, as the viewing user"
            }
        }
    }
}

/// A world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    MacroPlugin,
    AdminExtension,
    FullPlugin,
}

impl World {
    pub(crate) fn name(self) -> &'static str {
        match self {
            World::MacroPlugin => "macro-plugin",
            World::AdminExtension => "admin-extension",
            World::FullPlugin => "full-plugin",
        }
    }
    pub(crate) fn has_macros(self) -> bool {
        matches!(self, World::MacroPlugin | World::FullPlugin)
    }
    pub(crate) fn has_admin(self) -> bool {
        matches!(self, World::AdminExtension | World::FullPlugin)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock deadline of one call, in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Linear memory of one instance, in MiB.
    pub memory_mib: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MacroEntry {
    pub name: String,
    /// Parameter names, as the component's `describe` gives them.
    #[serde(default)]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    /// Path of the component, relative to the manifest (CLI installs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    pub worlds: Vec<World>,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub macros: Vec<MacroEntry>,
}

/// Upper bounds an administrator or manifest may set.
pub(crate) const MAX_TIMEOUT_MS: u32 = 10_000;
pub(crate) const MAX_MEMORY_MIB: u32 = 512;

impl Manifest {
    /// Parses and checks a manifest; the error says which field is wrong.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| format!("manifest: {e}"))?;
        m.validate()?;
        Ok(m)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !valid_id(&self.id) {
            return Err(format!(
                "manifest: id {:?} must be 2 to 64 characters of a-z, 0-9, '.', '-' or '_', starting with a letter or digit",
                self.id
            ));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err("manifest: name must be 1 to 100 characters".into());
        }
        if parse_version(&self.version).is_none() {
            return Err(format!(
                "manifest: version {:?} is not a semantic version (e.g. 1.2.0)",
                self.version
            ));
        }
        if self.description.chars().count() > 1000 || self.author.chars().count() > 200 {
            return Err("manifest: description or author is too long".into());
        }
        if self.worlds.is_empty() {
            return Err(
                "manifest: worlds must name at least one of macro-plugin, admin-extension".into(),
            );
        }
        let has_macros = self.worlds.iter().any(|w| w.has_macros());
        if has_macros && self.macros.is_empty() {
            return Err("manifest: a macro-plugin must list its [[macros]]".into());
        }
        if !has_macros && !self.macros.is_empty() {
            return Err("manifest: [[macros]] given but worlds has no macro-plugin".into());
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.macros {
            if !valid_macro_name(&m.name) {
                return Err(format!(
                    "manifest: macro name {:?} must be 1 to 64 characters of a-z, 0-9, '-' or '_'",
                    m.name
                ));
            }
            if !seen.insert(m.name.to_ascii_lowercase()) {
                return Err(format!("manifest: macro {:?} is listed twice", m.name));
            }
        }
        if let Some(t) = self.limits.timeout_ms {
            if t == 0 || t > MAX_TIMEOUT_MS {
                return Err(format!(
                    "manifest: limits.timeout-ms must be 1 to {MAX_TIMEOUT_MS}"
                ));
            }
        }
        if let Some(m) = self.limits.memory_mib {
            if m == 0 || m > MAX_MEMORY_MIB {
                return Err(format!(
                    "manifest: limits.memory-mib must be 1 to {MAX_MEMORY_MIB}"
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn has_macros(&self) -> bool {
        self.worlds.iter().any(|w| w.has_macros())
    }

    pub(crate) fn has_admin(&self) -> bool {
        self.worlds.iter().any(|w| w.has_admin())
    }
}

pub(crate) fn valid_id(id: &str) -> bool {
    (2..=64).contains(&id.len())
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

fn valid_macro_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// `major.minor.patch` with an optional `-pre`/`+build` suffix.
pub(crate) fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.parse().ok()?;
    if parts.next().is_some() || v.len() > 64 {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "com.example.hello"
name = "Hello"
version = "1.0.0"
worlds = ["macro-plugin"]
capabilities = ["log"]
[limits]
timeout-ms = 200
[[macros]]
name = "hello"
params = ["name"]
"#;

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.id, "com.example.hello");
        assert_eq!(m.capabilities, vec![Capability::Log]);
        assert_eq!(m.limits.timeout_ms, Some(200));
        assert_eq!(m.macros[0].params, vec!["name".to_string()]);
    }

    #[test]
    fn says_what_is_wrong() {
        let cases = [
            (GOOD.replace("com.example.hello", "Bad Id"), "id"),
            (GOOD.replace("1.0.0", "one"), "version"),
            (GOOD.replace("\"log\"", "\"network\""), "capabilities"),
            (GOOD.replace("macro-plugin", "toaster"), "worlds"),
            (GOOD.replace("200", "0"), "timeout-ms"),
            (
                GOOD.replace("name = \"hello\"", "name = \"Hello World\""),
                "macro name",
            ),
            (GOOD.replace("[limits]", "colour = 1\n[limits]"), "colour"),
        ];
        for (text, want) in cases {
            let e = Manifest::parse(&text).unwrap_err();
            assert!(e.contains(want), "{e} should mention {want}");
        }
    }
}
