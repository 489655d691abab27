//! From the first pass's rows to what Cairn will hold: which rows are
//! heads and which are their versions, the page tree with ancestors and
//! sibling order, unique titles, and the container of every comment and
//! attachment. Pure: no database, no files.
//!
//! Invariant: every content object of an imported space ends up in exactly
//! one place — a head, a version of a head, or a counted skip with a reason
//! (drafts, rows whose page is not in the export) — and the plan satisfies
//! Cairn's constraints (one current page per title, a version row for every
//! head's current version, parents before nothing: ids are assigned up front).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};

use super::model::{Item, Kind, Model, Status};
use super::Report;

pub(crate) struct Head {
    pub old_id: i64,
    pub kind: Kind,
    pub space: usize,
    pub parent: Option<u32>,
    pub container: Option<u32>,
    pub ancestors: Vec<u32>,
    pub position: i32,
    pub trashed: bool,
    pub title: String,
    pub version: i32,
    pub creator: Option<u32>,
    pub created: Option<NaiveDateTime>,
    pub modifier: Option<u32>,
    pub modified: Option<NaiveDateTime>,
    pub posting_day: Option<NaiveDate>,
}

/// One version to write. Title, author, date and comment are read from
/// the model's row (`old_id`) when written, so they are not held twice.
pub(crate) struct VersionRow {
    pub head: u32,
    pub old_id: i64,
    pub version: i32,
    pub minor: bool,
    /// An attachment version: its file is described in `Plan::files`.
    pub file: bool,
}

/// What an attachment version's file is (kept apart: few rows have one).
pub(crate) struct FileMeta {
    /// The container's old id and the current attachment's old id: the
    /// file is `attachments/<container>/<attachment>/<version>`.
    pub container: i64,
    pub attachment: i64,
    pub media_type: Option<String>,
    pub size_hint: Option<i64>,
}

pub(crate) struct SpacePlan {
    /// Index into `Model::spaces`.
    pub src: usize,
    pub key: String,
    pub home: Option<u32>,
}

pub(crate) struct Plan {
    pub spaces: Vec<SpacePlan>,
    pub heads: Vec<Head>,
    pub rows: Vec<VersionRow>,
    /// Export id of a content row → its version row (bodies arrive by it).
    pub row_of_item: HashMap<i64, u32>,
    /// Export id of a head → head index.
    pub head_of_item: HashMap<i64, u32>,
    /// SpaceDescription id → plan space index.
    pub description_of: HashMap<i64, usize>,
    /// JSON content properties whose bodies the second pass stages.
    pub property_bodies: HashSet<i64>,
    /// Version row → its file (attachments).
    pub files: HashMap<u32, FileMeta>,
}

fn prop<'a>(
    m: &'a Model,
    owned: &HashMap<i64, Vec<i64>>,
    item: i64,
    name: &str,
) -> Option<&'a str> {
    owned
        .get(&item)?
        .iter()
        .filter_map(|p| m.props.get(p))
        .find(|p| &*p.name == name)
        .map(|p| &*p.value)
}

pub(crate) fn plan(
    m: &Model,
    as_key: Option<&str>,
    r: &mut Report,
) -> Result<Plan, super::ImportError> {
    let mut p = Plan {
        spaces: Vec::new(),
        heads: Vec::new(),
        rows: Vec::new(),
        row_of_item: HashMap::new(),
        head_of_item: HashMap::new(),
        description_of: HashMap::new(),
        property_bodies: m.json_props.keys().copied().collect(),
        files: HashMap::new(),
    };
    if m.spaces.is_empty() {
        return Err(super::ImportError::NotConfluence(
            "the export holds no Space object: nothing to import".into(),
        ));
    }
    if as_key.is_some() && m.spaces.len() > 1 {
        return Err(super::ImportError::Invalid(format!(
            "--as names one space, but the export holds {} spaces",
            m.spaces.len()
        )));
    }
    let mut space_of: HashMap<i64, usize> = HashMap::new();
    for (i, s) in m.spaces.iter().enumerate() {
        if s.key.is_empty() {
            return Err(super::ImportError::Invalid(format!(
                "Space {} has no key",
                s.id
            )));
        }
        space_of.insert(s.id, p.spaces.len());
        if let Some(d) = s.description {
            p.description_of.insert(d, p.spaces.len());
        }
        p.spaces.push(SpacePlan {
            src: i,
            key: as_key.unwrap_or(&s.key).to_owned(),
            home: None,
        });
    }
    let owned = m.props_by_owner();

    // Heads: rows that are no one's version, in an imported space.
    let mut ids: Vec<i64> = m.items.keys().copied().collect();
    ids.sort_unstable();
    let space_for = |it: &Item, depth: usize| -> Option<usize> {
        let mut cur = it;
        for _ in 0..=depth {
            if let Some(s) = cur.space.and_then(|s| space_of.get(&s)) {
                return Some(*s);
            }
            cur = m.items.get(&cur.container?)?;
        }
        None
    };
    let kinds = [Kind::Page, Kind::BlogPost, Kind::Attachment, Kind::Comment];
    for kind in kinds {
        for &id in &ids {
            let it = &m.items[&id];
            if it.kind != kind || it.original.is_some() {
                continue;
            }
            if it.status == Status::Draft {
                r.drafts_skipped += 1;
                continue;
            }
            let Some(space) = space_for(it, 3) else {
                r.warn(format!(
                    "{kind:?} {id} belongs to no space in the export: not imported"
                ));
                continue;
            };
            // A container may be named by one of its historical versions.
            let container_id = it
                .container
                .map(|c| m.items.get(&c).and_then(|ci| ci.original).unwrap_or(c));
            if container_id.is_some_and(|c| p.description_of.contains_key(&c)) {
                // A space logo: Cairn has no place for it.
                r.warn(format!(
                    "{kind:?} {id} {:?} belongs to the space description (a space logo): not imported",
                    m.str(it.title)
                ));
                continue;
            }
            let container = match kind {
                Kind::Comment | Kind::Attachment => {
                    match container_id.and_then(|c| p.head_of_item.get(&c)) {
                        Some(c) => Some(*c),
                        None => {
                            r.warn(format!(
                            "{kind:?} {id} belongs to content {:?} that is not imported: not imported",
                            container_id
                        ));
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let idx = p.heads.len() as u32;
            p.head_of_item.insert(id, idx);
            p.heads.push(Head {
                old_id: id,
                kind,
                space,
                parent: None,
                container,
                ancestors: Vec::new(),
                position: 0,
                trashed: it.status != Status::Current,
                title: m.str(it.title).to_owned(),
                version: it.version,
                creator: it.creator,
                created: it.created,
                modifier: it.modifier.or(it.creator),
                modified: it.modified.or(it.created),
                posting_day: if kind == Kind::BlogPost {
                    Some(it.created.map(|d| d.date()).unwrap_or_default())
                } else {
                    None
                },
            });
            if it.status == Status::Other {
                r.warn(format!(
                    "{kind:?} {id} has an unknown status: imported into the trash"
                ));
            }
        }
    }
    for (i, s) in m.spaces.iter().enumerate() {
        p.spaces[i].home = s.home.and_then(|h| p.head_of_item.get(&h)).copied();
    }

    // Page tree: parents, ancestors, sibling order.
    let n = p.heads.len();
    for h in 0..n {
        let it = &m.items[&p.heads[h].old_id];
        if p.heads[h].kind != Kind::Page {
            continue;
        }
        if let Some(par) = it.parent {
            match p.head_of_item.get(&par) {
                Some(&ph) if p.heads[ph as usize].kind == Kind::Page && p.heads[ph as usize].space == p.heads[h].space => {
                    p.heads[h].parent = Some(ph)
                }
                _ => r.warn(format!(
                    "Page {} names parent {par}, which is not an imported page of its space: placed at the space root",
                    p.heads[h].old_id
                )),
            }
        }
    }
    for h in 0..n {
        let mut chain = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = p.heads[h].parent;
        while let Some(c) = cur {
            if !seen.insert(c) {
                r.warn(format!(
                    "Page {} is in a parent cycle: placed at the space root",
                    p.heads[h].old_id
                ));
                chain.clear();
                p.heads[h].parent = None;
                break;
            }
            chain.push(c);
            cur = p.heads[c as usize].parent;
        }
        chain.reverse();
        p.heads[h].ancestors = chain;
    }
    // Replies: a comment's parent is the comment it answers.
    for h in 0..n {
        if p.heads[h].kind != Kind::Comment {
            continue;
        }
        if let Some(par) = m.items[&p.heads[h].old_id].parent {
            match p.head_of_item.get(&par) {
                Some(&ph)
                    if p.heads[ph as usize].kind == Kind::Comment
                        && p.heads[ph as usize].container == p.heads[h].container =>
                {
                    p.heads[h].parent = Some(ph)
                }
                _ => r.warn(format!(
                    "Comment {} replies to {par}, which is not an imported comment of the same page: kept as a top-level comment",
                    p.heads[h].old_id
                )),
            }
        }
    }
    // Comments and attachments: the container's chain and the container.
    for h in 0..n {
        if let Some(c) = p.heads[h].container {
            let mut chain = p.heads[c as usize].ancestors.clone();
            chain.push(c);
            p.heads[h].ancestors = chain;
        }
    }
    let mut siblings: HashMap<(usize, Option<u32>), Vec<u32>> = HashMap::new();
    for h in 0..n {
        if p.heads[h].kind == Kind::Page {
            siblings
                .entry((p.heads[h].space, p.heads[h].parent))
                .or_default()
                .push(h as u32);
        }
    }
    for (_, mut v) in siblings {
        v.sort_by_key(|&h| {
            let it = &m.items[&p.heads[h as usize].old_id];
            (
                it.position.is_none(),
                it.position,
                p.heads[h as usize].title.to_lowercase(),
            )
        });
        for (i, h) in v.into_iter().enumerate() {
            p.heads[h as usize].position = i as i32;
        }
    }

    // Unique titles among current pages (per space), blog posts (per day)
    // and attachments (per container), as Cairn requires.
    // (kind, space, posting day, container, lower-case title)
    type TitleKey = (u8, usize, Option<NaiveDate>, Option<u32>, String);
    let mut taken: HashSet<TitleKey> = HashSet::new();
    for h in 0..n {
        let hd = &p.heads[h];
        if hd.trashed || hd.kind == Kind::Comment {
            continue;
        }
        let k = match hd.kind {
            Kind::Page => 0,
            Kind::BlogPost => 1,
            _ => 2,
        };
        let cont = if k == 2 { hd.container } else { None };
        let base = if hd.title.trim().is_empty() {
            format!("Untitled {}", hd.old_id)
        } else {
            hd.title.clone()
        };
        let mut title = base.clone();
        let mut i = 2;
        while !taken.insert((k, hd.space, hd.posting_day, cont, title.to_lowercase())) {
            title = format!("{base} ({i})");
            i += 1;
        }
        if title != hd.title {
            r.warn(format!(
                "{:?} {} title {:?} is taken (or empty) in its space: imported as {:?}",
                hd.kind, hd.old_id, hd.title, title
            ));
            p.heads[h].title = title;
        }
    }
    for h in 0..n {
        if p.heads[h].kind == Kind::Comment {
            let c = p.heads[h].container.unwrap_or(0) as usize;
            p.heads[h].title = format!("Re: {}", p.heads[c].title);
        }
    }

    // Versions: historical rows grouped by head, then the head itself.
    let mut history: HashMap<u32, Vec<i64>> = HashMap::new();
    for &id in &ids {
        let it = &m.items[&id];
        let Some(orig) = it.original else { continue };
        if it.status == Status::Draft {
            r.drafts_skipped += 1;
            continue;
        }
        match p.head_of_item.get(&orig) {
            Some(&h) => history.entry(h).or_default().push(id),
            None if it.kind == Kind::SpaceDescription => {
                *r.skipped
                    .entry("SpaceDescription (history)".into())
                    .or_default() += 1
            }
            None => r.warn(format!(
                "{:?} {id} is a version of {orig}, which is not imported: not imported",
                it.kind
            )),
        }
    }
    for h in 0..n as u32 {
        let hd = &p.heads[h as usize];
        let mut versions = history.remove(&h).unwrap_or_default();
        versions.push(hd.old_id);
        versions.sort_by_key(|id| (m.items[id].version, *id != hd.old_id));
        let mut seen = HashSet::new();
        for id in versions {
            let it = &m.items[&id];
            let mut version = it.version;
            if id != hd.old_id && version >= hd.version {
                r.warn(format!(
                    "{:?} {id} claims version {version}, not older than its current version {}: skipped",
                    it.kind, hd.version
                ));
                continue;
            }
            if !seen.insert(version) {
                r.warn(format!(
                    "{:?} {id} repeats version {version} of {}: skipped",
                    it.kind, hd.old_id
                ));
                continue;
            }
            if id == hd.old_id {
                version = hd.version;
            }
            let row = p.rows.len() as u32;
            let (file, media_type, size_hint, minor) = if it.kind == Kind::Attachment {
                let c = m.items[&hd.old_id].container.unwrap_or(0);
                (
                    Some((c, hd.old_id)),
                    prop(m, &owned, id, "MEDIA_TYPE")
                        .map(str::to_owned)
                        .or(Some(m.str(it.media_type))
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)),
                    prop(m, &owned, id, "FILESIZE")
                        .and_then(|s| s.parse().ok())
                        .or(it.file_size),
                    prop(m, &owned, id, "MINOR_EDIT") == Some("true"),
                )
            } else {
                (None, None, None, false)
            };
            if let Some((container, attachment)) = file {
                p.files.insert(
                    row,
                    FileMeta {
                        container,
                        attachment,
                        media_type,
                        size_hint,
                    },
                );
            }
            p.row_of_item.insert(id, row);
            p.rows.push(VersionRow {
                head: h,
                old_id: id,
                version,
                minor,
                file: file.is_some(),
            });
        }
    }
    Ok(p)
}
