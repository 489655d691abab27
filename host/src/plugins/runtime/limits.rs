//! What one plugin call may use, and how a call that went past it failed:
//! time and memory limits (the site defaults are live settings), output and
//! message sizes, host calls, and the failures a call is classified into.
//!
//! Invariant: every way a call can end badly is one `Failure` whose text
//! says what happened, within `MAX_MESSAGE_BYTES` and without line breaks a
//! plugin chose.

use super::host::HostState;

/// Defaults for one call.
pub const DEFAULT_TIMEOUT_MS: u32 = 100;

pub const DEFAULT_MEMORY_MIB: u32 = 32;

pub(super) static DEFAULT_LIMITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(
    ((DEFAULT_TIMEOUT_MS as u64) << 32) | DEFAULT_MEMORY_MIB as u64,
);

/// The limits of a plugin that sets none (live settings
/// `plugin_time_limit_ms` and `plugin_memory_limit_mb`).
pub fn set_default_limits(timeout_ms: u32, memory_mib: u32) {
    DEFAULT_LIMITS.store(
        (u64::from(timeout_ms) << 32) | u64::from(memory_mib),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// See [`set_default_limits`]: (time limit in ms, memory limit in MiB).
pub fn default_limits() -> (u32, u32) {
    let v = DEFAULT_LIMITS.load(std::sync::atomic::Ordering::Relaxed);
    ((v >> 32) as u32, v as u32)
}

/// Largest HTML a macro may return.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// Longest failure message shown or kept (a guest's own error text is cut
/// here, before it is escaped).
pub const MAX_MESSAGE_BYTES: usize = 2000;

/// Bytes (keys plus values) one plugin may keep in its key-value store.
pub const KV_QUOTA_BYTES: i64 = 32 * 1024 * 1024;

/// Host calls (capability functions) one plugin call may make.
pub const MAX_HOST_CALLS: u32 = 1000;

/// Cuts a message to [`MAX_MESSAGE_BYTES`] (at a character boundary) with a
/// note saying how much was left out.
pub fn bounded_message(m: &str) -> String {
    if m.len() <= MAX_MESSAGE_BYTES {
        return m.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (message cut: {} more bytes)", &m[..end], m.len() - end)
}

/// A log message on one line: line breaks and other control characters are
/// written as escapes, so a plugin cannot forge log lines.
pub fn escape_log(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    for c in m.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Why a call failed, for the error box and the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout(u32),
    Memory(u32),
    StackOverflow,
    HostCalls,
    OutputTooLarge(usize),
    /// The guest trapped (panic, unreachable, bad memory access …).
    Trap(String),
    /// The guest returned an error of its own.
    Guest(String),
    /// The host could not serve a capability (e.g. the database is down).
    Host(String),
    /// Every instance slot is taken and the queue is full (or the wait was
    /// too long): the node is busy with other plugin calls.
    Busy,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout(ms) => write!(f, "took longer than its time limit of {ms} ms"),
            Failure::Memory(mib) => write!(f, "used more than its memory limit of {mib} MiB"),
            Failure::StackOverflow => write!(f, "overflowed its stack (too deep a recursion)"),
            Failure::HostCalls => {
                write!(f, "made more than {MAX_HOST_CALLS} host calls in one call")
            }
            Failure::OutputTooLarge(n) => write!(
                f,
                "returned {n} bytes of output, more than the limit of {MAX_OUTPUT_BYTES}"
            ),
            Failure::Trap(m) => write!(f, "crashed: {m}"),
            Failure::Guest(m) => write!(f, "{m}"),
            Failure::Host(m) => write!(f, "host error: {m}"),
            Failure::Busy => write!(
                f,
                "not rendered: the server is busy with other plugin calls; reload the page in a moment"
            ),
        }
    }
}

pub(super) fn classify(e: wasmtime::Error, state: &HostState, limits: CallLimits) -> Failure {
    if state.limiter.denied {
        return Failure::Memory(limits.memory_mib);
    }
    if let Some(h) = &state.host_error {
        return h.clone();
    }
    if let Some(t) = e.downcast_ref::<wasmtime::Trap>() {
        return match t {
            wasmtime::Trap::Interrupt => Failure::Timeout(limits.timeout_ms),
            wasmtime::Trap::StackOverflow => Failure::StackOverflow,
            other => Failure::Trap(other.to_string()),
        };
    }
    let msg = format!("{e:#}");
    if msg.contains("resource limit exceeded") || msg.contains("memory") && msg.contains("limit") {
        return Failure::Memory(limits.memory_mib);
    }
    Failure::Trap(msg.lines().next().unwrap_or("").to_string())
}

#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub timeout_ms: u32,
    pub memory_mib: u32,
}

pub struct Limiter {
    pub(super) memory_bytes: usize,
    pub(super) denied: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cut_at_a_character_boundary_with_a_note() {
        assert_eq!(bounded_message("short"), "short");
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = bounded_message(&long);
        assert!(cut.len() < MAX_MESSAGE_BYTES + 100, "{}", cut.len());
        assert!(cut.ends_with(&format!("(message cut: {} more bytes)", MAX_MESSAGE_BYTES)));
    }

    #[test]
    fn log_messages_stay_on_one_line() {
        assert_eq!(
            escape_log("a\nb\r\tc\u{1b}[31m\u{2028}"),
            "a\\nb\\r\\tc\\u{1b}[31m\\u{2028}"
        );
        assert_eq!(escape_log("plain ünïcode"), "plain ünïcode");
    }
}
