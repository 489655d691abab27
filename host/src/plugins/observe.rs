//! What this node saw of each plugin: its recent log lines and its call
//! figures, for the plugin's admin page and `/metrics`.
//!
//! Invariant: bounded and local — at most 100 log lines per plugin, kept
//! in memory on this node only; figures only ever count up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::Plugins;
use crate::sync::Recover;

/// Recent log lines of one plugin on this node, for its admin page.
#[derive(Default)]
pub struct PluginLog {
    pub(super) lines: Mutex<VecDeque<LogLine>>,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: &'static str,
    pub message: String,
}

impl PluginLog {
    pub(crate) fn push(&self, level: &'static str, message: String) {
        let mut l = self.lines.lock().recover();
        if l.len() >= 100 {
            l.pop_front();
        }
        l.push_back(LogLine {
            at: Utc::now(),
            level,
            message,
        });
    }
    pub fn lines(&self) -> Vec<LogLine> {
        let l = self.lines.lock().recover();
        l.iter().rev().cloned().collect()
    }
}

/// Per-plugin call figures on this node.
#[derive(Default)]
pub struct Metrics {
    pub calls: AtomicU64,
    pub failures: AtomicU64,
    pub cache_hits: AtomicU64,
    pub nanos: AtomicU64,
    pub(super) last_failure: Mutex<Option<(DateTime<Utc>, String)>>,
}

impl Metrics {
    pub fn last_failure(&self) -> Option<(DateTime<Utc>, String)> {
        self.last_failure.lock().recover().clone()
    }
    pub(super) fn record(&self, started: Instant, failure: Option<&str>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if let Some(f) = failure {
            self.failures.fetch_add(1, Ordering::Relaxed);
            *self.last_failure.lock().recover() = Some((Utc::now(), f.to_string()));
        }
    }
}

impl Plugins {
    pub fn metrics(&self, id: &str) -> Arc<Metrics> {
        self.inner
            .metrics
            .lock()
            .recover()
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    pub fn log(&self, id: &str) -> Arc<PluginLog> {
        self.inner
            .logs
            .lock()
            .recover()
            .entry(id.to_string())
            .or_default()
            .clone()
    }
}
