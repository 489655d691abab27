//! The plugin's summary of the content in `kv`: page and attachment
//! records in 16 shards each, kept current by content events and rebuilt
//! in batches by `POST /scan`.
//!
//! Invariant: a shard is read, changed and written back whole within one
//! plugin call, so a record is never half-written.

use crate::*;

use cairn::plugin::{content, kv, log};
use exports::cairn::plugin::events::ContentRef;
use records::{AttRecord, PageRecord};
use std::collections::{BTreeMap, HashSet};

pub(super) fn shard_key(kind: &str, id: i64) -> String {
    format!("{kind}/{:02}", id.rem_euclid(SHARDS))
}

pub(super) fn load(key: &str) -> String {
    kv::get(key)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

pub(super) fn store(key: &str, value: &str) {
    let result = if value.is_empty() {
        kv::delete(key);
        Ok(())
    } else {
        kv::set(key, value.as_bytes())
    };
    if let Err(e) = result {
        log::log(
            log::Level::Error,
            &format!("content-report: could not store {key}: {e}"),
        );
    }
}

/// Rewrites one shard: drops the lines `drop` selects, then appends `add`.
pub(super) fn update_shard(key: &str, drop: impl Fn(&str) -> bool, add: &[String]) {
    let old = load(key);
    let mut out = String::with_capacity(old.len() + 128);
    for line in old.lines().filter(|l| !l.is_empty() && !drop(l)) {
        out.push_str(line);
        out.push('\n');
    }
    for line in add {
        out.push_str(line);
        out.push('\n');
    }
    if out != old {
        store(key, &out);
    }
}

pub(super) fn first_field(line: &str) -> Option<i64> {
    line.split('\t').next()?.parse().ok()
}

pub(super) fn second_field(line: &str) -> Option<i64> {
    line.split('\t').nth(1)?.parse().ok()
}

pub(super) fn page_record(s: &content::ContentSummary) -> PageRecord {
    PageRecord {
        id: s.id,
        kind: s.type_.clone(),
        version: s.version,
        last_modified: s.last_modified.clone(),
        parent: s.parent_id,
        space: s.space_key.clone(),
        title: s.title.clone(),
        url: s.url.clone(),
    }
}

pub(super) fn att_lines(container: i64, list: &[content::Attachment]) -> Vec<String> {
    list.iter()
        .map(|a| {
            AttRecord {
                container,
                id: a.id,
                size: a.size,
                created: a.created.clone(),
                filename: a.filename.clone(),
            }
            .encode()
        })
        .collect()
}

/// Records the current attachments of a page; returns their ids.
pub(super) fn refresh_attachments(container: i64) -> Vec<i64> {
    let list = content::attachments(container);
    let lines = att_lines(container, &list);
    update_shard(
        &shard_key("atts", container),
        |l| first_field(l) == Some(container),
        &lines,
    );
    list.iter().map(|a| a.id).collect()
}

/// The container of an attachment already recorded.
pub(super) fn recorded_container(att: i64) -> Option<i64> {
    (0..SHARDS).find_map(|n| {
        load(&shard_key("atts", n))
            .lines()
            .find(|l| second_field(l) == Some(att))
            .and_then(first_field)
    })
}

pub(super) fn upsert(r: &ContentRef) {
    match r.type_.as_str() {
        "page" | "blogpost" => match content::get(r.id) {
            Some(p) => {
                let line = page_record(&p.summary).encode();
                update_shard(
                    &shard_key("pages", r.id),
                    |l| first_field(l) == Some(r.id),
                    &[line],
                );
                refresh_attachments(r.id);
            }
            // Not current any more (trashed, a draft): not part of the report.
            None => remove(r),
        },
        "attachment" => {
            // Known: refresh its page (an update, or a move away from it).
            if let Some(c) = recorded_container(r.id) {
                if refresh_attachments(c).contains(&r.id) {
                    return;
                }
            }
            // New (or moved): look for it on the space's recently changed pages.
            let spaces = vec![r.space_key.clone()];
            let kinds = vec!["page".to_string(), "blogpost".to_string()];
            let found = content::recently_updated(&spaces, &kinds, CONTAINER_SEARCH)
                .into_iter()
                .find(|p| content::attachments(p.id).iter().any(|a| a.id == r.id));
            match found {
                Some(p) => {
                    refresh_attachments(p.id);
                }
                None => log::log(
                    log::Level::Info,
                    &format!(
                        "content-report: page of attachment {} ({}) not found; the next scan records it",
                        r.id, r.title
                    ),
                ),
            }
        }
        _ => {}
    }
}

pub(super) fn remove(r: &ContentRef) {
    match r.type_.as_str() {
        "page" | "blogpost" => {
            update_shard(
                &shard_key("pages", r.id),
                |l| first_field(l) == Some(r.id),
                &[],
            );
            update_shard(
                &shard_key("atts", r.id),
                |l| first_field(l) == Some(r.id),
                &[],
            );
        }
        "attachment" => {
            if let Some(c) = recorded_container(r.id) {
                update_shard(
                    &shard_key("atts", c),
                    |l| second_field(l) == Some(r.id),
                    &[],
                );
            }
        }
        _ => {}
    }
}

/// Records every page and blog post (newest first, as many as the host lists) and, a
/// batch per request, their attachments. A scan in progress is continued unless
/// `restart`.
pub(super) fn scan(restart: bool) {
    let queue = load("scan/queue");
    let mut pending: Vec<i64> = if restart || queue.trim().is_empty() {
        let kinds = vec!["page".to_string(), "blogpost".to_string()];
        let list = content::recently_updated(&[], &kinds, 10_000);
        let mut shards: BTreeMap<i64, String> = (0..SHARDS).map(|n| (n, String::new())).collect();
        for s in &list {
            if let Some(text) = shards.get_mut(&s.id.rem_euclid(SHARDS)) {
                text.push_str(&page_record(s).encode());
                text.push('\n');
            }
        }
        for (n, text) in &shards {
            store(&shard_key("pages", *n), text);
            store(&shard_key("atts", *n), "");
        }
        list.iter().map(|s| s.id).collect()
    } else {
        queue
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    let rest = pending.split_off(pending.len().min(SCAN_BATCH));
    let mut by_shard: BTreeMap<i64, (HashSet<i64>, Vec<String>)> = BTreeMap::new();
    for id in pending {
        let lines = att_lines(id, &content::attachments(id));
        let entry = by_shard.entry(id.rem_euclid(SHARDS)).or_default();
        entry.0.insert(id);
        entry.1.extend(lines);
    }
    for (n, (containers, lines)) in &by_shard {
        update_shard(
            &shard_key("atts", *n),
            |l| first_field(l).is_some_and(|c| containers.contains(&c)),
            lines,
        );
    }
    let queue: String = rest.iter().map(|id| format!("{id}\n")).collect();
    store("scan/queue", &queue);
}
