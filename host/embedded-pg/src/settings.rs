//! The server settings Cairn owns. They live in `<data>/cairn.conf`, rewritten before every
//! start and included at the end of `postgresql.conf`, so an admin's own edits to
//! `postgresql.conf` survive and `ALTER SYSTEM` (postgresql.auto.conf, read last) can still
//! override any of them.

use std::path::Path;

/// The file name, relative to the data directory.
pub(crate) const FILE: &str = "cairn.conf";

/// Appended once to the `postgresql.conf` that initdb writes.
pub(crate) const INCLUDE_LINE: &str =
    "\n# Settings managed by Cairn (rewritten at every start).\ninclude_if_exists = 'cairn.conf'\n";

/// `sun_path` is 108 bytes on Linux (104 on the BSDs); keep one for the NUL.
const MAX_SOCKET_PATH: usize = 103;

/// Renders `cairn.conf`. `socket_dir` is `None` when the directory's path is too long for a
/// Unix socket; then only TCP is offered, which is all Cairn uses.
pub(crate) fn render(port: u16, socket_dir: Option<&Path>) -> String {
    let sockets = socket_dir
        .map(|dir| quote(&dir.to_string_lossy()))
        .unwrap_or_else(|| "''".to_owned());
    format!(
        "# Written by Cairn before every start of its embedded PostgreSQL; edits are lost.\n\
         # Override a setting with ALTER SYSTEM, or in postgresql.conf after the include.\n\
         port = {port}\n\
         # Trust authentication is configured, so never listen beyond this machine.\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = {sockets}\n\
         unix_socket_permissions = 0700\n\
         # A small node: modest memory, and no JIT, whose compile time dwarfs wiki queries.\n\
         max_connections = 100\n\
         shared_buffers = '128MB'\n\
         work_mem = '8MB'\n\
         maintenance_work_mem = '64MB'\n\
         max_wal_size = '512MB'\n\
         jit = off\n\
         # Timestamps mean the same on every node of a cluster.\n\
         timezone = 'UTC'\n\
         log_timezone = 'UTC'\n\
         log_line_prefix = '%m [%p] %q%u@%d '\n\
         log_min_messages = warning\n\
         log_checkpoints = off\n"
    )
}

/// Whether PostgreSQL can create its socket (`<dir>/.s.PGSQL.<port>`, plus `.lock`) there.
pub(crate) fn socket_dir_fits(dir: &Path, port: u16) -> bool {
    dir.as_os_str().len() + format!("/.s.PGSQL.{port}.lock").len() <= MAX_SOCKET_PATH
}

/// The port a previous start used, so that the URL stays the same across restarts.
pub(crate) fn previous_port(data_dir: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(data_dir.join(FILE)).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "port").then(|| value.trim().parse().ok())?
    })
}

/// A configuration-file string literal.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths() {
        assert_eq!(quote("/a/b"), "'/a/b'");
        assert_eq!(quote("/it's\\x"), "'/it''s\\\\x'");
    }

    #[test]
    fn remembers_the_port() {
        let dir = std::env::temp_dir().join(format!("cairn-epg-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE), render(54321, Some(Path::new("/x")))).unwrap();
        let port = previous_port(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(port, Some(54321));
    }

    #[test]
    fn long_socket_paths_do_not_fit() {
        assert!(socket_dir_fits(Path::new("/tmp/short"), 65535));
        assert!(!socket_dir_fits(
            &Path::new("/tmp").join("x".repeat(100)),
            5432
        ));
    }
}
