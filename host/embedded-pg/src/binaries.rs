//! Finding the machine's PostgreSQL programs. Only reads the file system; never runs
//! anything (the version is asked for by the caller through `tools`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// Where Debian and Ubuntu install one directory per major version.
pub(crate) const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// Programs this crate runs; all must be in the bin directory.
const REQUIRED: [&str; 5] = ["initdb", "pg_ctl", "pg_isready", "psql", "postgres"];

/// Picks the bin directory: the explicit one, else the Debian layout (the version that
/// made `data_version`'s cluster if installed, else the newest), else `pg_ctl` on `PATH`
/// (Fedora, Arch and Homebrew put everything in one bin directory).
pub(crate) fn locate(
    explicit: Option<&Path>,
    data_version: Option<&str>,
) -> Result<PathBuf, Error> {
    let dir = match explicit {
        Some(dir) => dir.to_path_buf(),
        None => match newest_debian(Path::new(DEBIAN_ROOT), data_version).or_else(on_path) {
            Some(dir) => dir,
            None => {
                return Err(Error::NoBinaries {
                    searched: PathBuf::from(DEBIAN_ROOT),
                })
            }
        },
    };
    if let Some(missing) = REQUIRED.iter().find(|tool| !is_executable(&dir.join(tool))) {
        return Err(Error::BadBinDir { dir, missing });
    }
    Ok(dir)
}

fn newest_debian(root: &Path, prefer: Option<&str>) -> Option<PathBuf> {
    let mut found: Vec<((u32, u32), String)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_owned();
            let version = parse_version_dir(&name)?;
            is_executable(&root.join(&name).join("bin/pg_ctl")).then_some((version, name))
        })
        .collect();
    found.sort();
    let chosen = match prefer.and_then(|want| found.iter().find(|(_, name)| name == want)) {
        Some(hit) => hit,
        None => found.last()?,
    };
    Some(root.join(&chosen.1).join("bin"))
}

/// "15" → (15, 0), "9.6" → (9, 6); anything else is not a version directory.
fn parse_version_dir(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(minor) => minor.parse().ok()?,
        None => 0,
    };
    parts.next().is_none().then_some((major, minor))
}

fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| is_executable(&dir.join("pg_ctl")))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The major version in `pg_ctl --version` output, as `PG_VERSION` spells it:
/// "pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" → "15", "… 9.6.24" → "9.6".
pub(crate) fn parse_major_version(output: &str) -> Option<String> {
    let rest = output.split("(PostgreSQL)").nth(1)?.trim_start();
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = number.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    if major >= 10 {
        Some(major.to_string())
    } else {
        let minor: u32 = parts.next()?.parse().ok()?;
        Some(format!("{major}.{minor}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_dirs() {
        assert_eq!(parse_version_dir("15"), Some((15, 0)));
        assert_eq!(parse_version_dir("9.6"), Some((9, 6)));
        assert_eq!(parse_version_dir("lib"), None);
        assert_eq!(parse_version_dir("1.2.3"), None);
    }

    #[test]
    fn major_versions() {
        assert_eq!(
            parse_major_version("pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n").as_deref(),
            Some("15")
        );
        assert_eq!(
            parse_major_version("pg_ctl (PostgreSQL) 9.6.24").as_deref(),
            Some("9.6")
        );
        assert_eq!(
            parse_major_version("pg_ctl (PostgreSQL) 17devel").as_deref(),
            Some("17")
        );
        assert_eq!(parse_major_version("something else"), None);
    }

    #[test]
    fn prefers_the_version_of_the_cluster() {
        let root = std::env::temp_dir().join(format!("cairn-epg-bins-{}", std::process::id()));
        for version in ["9.6", "13", "15"] {
            let bin = root.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let pg_ctl = bin.join("pg_ctl");
            std::fs::write(&pg_ctl, "").unwrap();
            std::fs::set_permissions(&pg_ctl, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(root.join("not-a-version/bin")).unwrap();
        let newest = newest_debian(&root, None);
        let preferred = newest_debian(&root, Some("13"));
        let absent = newest_debian(&root, Some("11"));
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(newest, Some(root.join("15/bin")));
        assert_eq!(preferred, Some(root.join("13/bin")));
        assert_eq!(absent, Some(root.join("15/bin")));
    }
}
