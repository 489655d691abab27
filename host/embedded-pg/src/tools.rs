//! Running PostgreSQL's programs: as the service user where PostgreSQL insists on it, with a
//! clean environment, a timeout, and their output appended to a log file in the directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::ownership::ServiceUser;
use crate::Error;

/// How many lines of output an error carries.
const TAIL_LINES: usize = 20;

/// Runs the programs of one bin directory for one embedded PostgreSQL directory.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    pub bin_dir: PathBuf,
    pub user: Option<ServiceUser>,
    /// Working directory of every program: readable by the service user, unlike root's cwd.
    pub work_dir: PathBuf,
    pub log: PathBuf,
}

/// A finished program.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub status: ExitStatus,
    /// stdout followed by stderr.
    pub output: String,
}

impl Tools {
    /// A command for `tool`. `privileged_refusal`: the program refuses to run as root
    /// (initdb, pg_ctl), so run it as the service user if there is one.
    ///
    /// That is done with setuid/setgid in the child (what `runuser -u postgres` boils down
    /// to) rather than through runuser itself: no PAM session, no dependency on util-linux,
    /// and killing the child on timeout kills the program rather than a wrapper.
    pub(crate) fn command(&self, tool: &str, privileged_refusal: bool) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        // PGDATA, PGPORT, PGHOST… from the node's environment would silently retarget the
        // programs at some other cluster.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        // English messages: some failures are recognised by their text.
        cmd.env("LC_ALL", "C")
            .current_dir(&self.work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if privileged_refusal {
            if let Some(user) = &self.user {
                cmd.uid(user.uid)
                    .gid(user.gid)
                    .env("HOME", &user.home)
                    .env("USER", &user.name)
                    .env("LOGNAME", &user.name);
            }
        }
        cmd
    }

    /// Runs `cmd` to completion within `timeout`, feeding it `stdin`. A non-zero exit is
    /// not an error here (callers inspect it); failing to run or timing out is.
    /// `log_output`: append the command line and its output to the log file.
    pub(crate) async fn run(
        &self,
        mut cmd: Command,
        what: &str,
        timeout: Duration,
        stdin: Option<&[u8]>,
        log_output: bool,
    ) -> Result<Outcome, Error> {
        let line = command_line(&cmd);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().map_err(|e| Error::CommandFailed {
            what: what.to_owned(),
            status: format!(
                "could not run {}: {e}",
                self.bin_dir.join(program(&cmd)).display()
            ),
            log: self.log.clone(),
            tail: String::new(),
        })?;
        let stdin_pipe = child.stdin.take();
        let finish = async move {
            if let (Some(input), Some(mut pipe)) = (stdin, stdin_pipe) {
                // A program that exits early closes the pipe; its exit status tells the story.
                let _ = pipe.write_all(input).await;
                drop(pipe);
            }
            child.wait_with_output().await
        };
        // On timeout `finish` is dropped with the child in it, and kill_on_drop kills it.
        let output = match tokio::time::timeout(timeout, finish).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(Error::CommandFailed {
                    what: what.to_owned(),
                    status: format!("could not wait for it: {e}"),
                    log: self.log.clone(),
                    tail: String::new(),
                })
            }
            Err(_) => {
                self.append_log(&format!(
                    "$ {line}\n(killed after {}s)\n",
                    timeout.as_secs()
                ))
                .await;
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    timeout,
                    log: self.log.clone(),
                    tail: String::new(),
                });
            }
        };
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        if log_output {
            let stamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            self.append_log(&format!(
                "--- {stamp} (unix time) $ {line}\n{text}--- {}\n",
                output.status
            ))
            .await;
        }
        Ok(Outcome {
            status: output.status,
            output: text,
        })
    }

    /// The error for an unsuccessful `outcome`, carrying its tail plus `extra` lines (e.g.
    /// from the server log).
    pub(crate) fn failure(&self, what: &str, outcome: &Outcome, extra: &str) -> Error {
        let mut tail = tail(&outcome.output, TAIL_LINES);
        if !extra.trim().is_empty() {
            tail.push('\n');
            tail.push_str(&self::tail(extra, TAIL_LINES));
        }
        Error::CommandFailed {
            what: what.to_owned(),
            status: outcome.status.to_string(),
            log: self.log.clone(),
            tail,
        }
    }

    /// Best effort: the log is a diagnostic aid, and failing to write it must not fail the
    /// start; the output still reaches the error message.
    async fn append_log(&self, text: &str) {
        let result = async {
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .await?;
            file.write_all(text.as_bytes()).await?;
            file.flush().await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(log = %self.log.display(), error = %e, "could not write the embedded PostgreSQL tool log");
        }
    }
}

fn program(cmd: &Command) -> &Path {
    Path::new(cmd.as_std().get_program())
        .file_name()
        .map(Path::new)
        .unwrap_or_else(|| Path::new(cmd.as_std().get_program()))
}

fn command_line(cmd: &Command) -> String {
    let std = cmd.as_std();
    std::iter::once(std.get_program())
        .chain(std.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What was appended to a (possibly large) log file since offset `from`, at most its last
/// 16 KiB; empty if it cannot be read.
pub(crate) async fn read_from(path: &Path, from: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    const MAX: u64 = 16 * 1024;
    let read = async {
        let mut file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        let start = from.max(len.saturating_sub(MAX));
        file.seek(std::io::SeekFrom::Start(start)).await?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf).into_owned())
    };
    read.await.unwrap_or_default()
}

/// Size of a file, 0 if missing: where new server-log lines start.
pub(crate) async fn file_len(path: &Path) -> u64 {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
