//! The first pass: everything in `entities.xml` except bodies, as compact
//! in-memory rows keyed by their Confluence ids.
//!
//! Invariant: no body text is kept here (the second pass streams bodies
//! straight to the database), so memory grows with the number of objects,
//! never with their size; every object is either recorded, counted as
//! knowingly skipped, or refused with an error naming it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::xml::{Object, Value};
use super::ImportError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Page,
    BlogPost,
    Comment,
    Attachment,
    SpaceDescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Current,
    Deleted,
    Draft,
    Other,
}

/// One content row of the export: a head or one of its historical versions.
#[derive(Debug)]
pub(crate) struct Item {
    pub kind: Kind,
    /// Interned (see [`Model::str`]): historical rows repeat their page's title.
    pub title: u32,
    pub version: i32,
    pub status: Status,
    pub space: Option<i64>,
    pub parent: Option<i64>,
    pub position: Option<i32>,
    /// The head this row is a historical version (or draft) of.
    pub original: Option<i64>,
    /// Comment → page/blog post/attachment; attachment → page/blog post.
    pub container: Option<i64>,
    pub creator: Option<u32>,
    pub created: Option<NaiveDateTime>,
    pub modifier: Option<u32>,
    pub modified: Option<NaiveDateTime>,
    /// Interned version comment.
    pub comment: u32,
    /// Attachments of 4.x and older carry these on the object itself
    /// (media type interned, 0 = none).
    pub file_size: Option<i64>,
    pub media_type: u32,
}

#[derive(Debug, Default)]
pub(crate) struct SpaceRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: Option<i64>,
    pub home: Option<i64>,
    pub space_type: String,
    pub status: String,
    pub creator: Option<u32>,
    pub created: Option<NaiveDateTime>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct UserRow {
    pub key: String,
    pub name: String,
    pub email: String,
    pub display_name: String,
    /// Referenced by the export, but no ConfluenceUserImpl row says who.
    pub unknown: bool,
}

#[derive(Debug)]
pub(crate) struct PropRow {
    pub name: Box<str>,
    pub value: Box<str>,
    pub owner: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct SpacePermRow {
    pub space: Option<i64>,
    pub kind: String,
    pub group: Option<String>,
    pub user: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct RestrictionRow {
    pub set: i64,
    pub kind: String,
    pub group: Option<String>,
    pub user: Option<u32>,
}

/// Content rows by id: a sorted vector (a third of a hash map's memory at
/// half a million rows), sorted once by [`Model::finish`].
#[derive(Debug, Default)]
pub(crate) struct Items {
    v: Vec<(i64, Item)>,
}

impl Items {
    pub(crate) fn insert(&mut self, id: i64, item: Item) {
        self.v.push((id, item));
    }
    fn sort(&mut self) {
        // In place (no second copy); a repeated id keeps its last row, as a
        // map would.
        self.v.sort_by_key(|(id, _)| *id);
        self.v.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                std::mem::swap(later, kept);
                true
            } else {
                false
            }
        });
    }
    pub(crate) fn get(&self, id: &i64) -> Option<&Item> {
        self.v
            .binary_search_by_key(id, |(i, _)| *i)
            .ok()
            .map(|i| &self.v[i].1)
    }
    /// Ids in ascending order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &i64> {
        self.v.iter().map(|(id, _)| id)
    }
}

impl std::ops::Index<&i64> for Items {
    type Output = Item;
    fn index(&self, id: &i64) -> &Item {
        match self.get(id) {
            Some(it) => it,
            None => panic!("no content row {id} (the plan only names rows it found)"),
        }
    }
}

/// Each distinct string once: titles and comments of historical versions
/// repeat, and a row then costs four bytes instead of an allocation.
#[derive(Debug)]
pub(crate) struct Strings {
    map: HashMap<Box<str>, u32>,
    list: Vec<Box<str>>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings {
            map: HashMap::from([("".into(), 0)]),
            list: vec!["".into()],
        }
    }
}

impl Strings {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.map.get(s) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.into());
        self.map.insert(s.into(), i);
        i
    }
    pub(crate) fn get(&self, i: u32) -> &str {
        self.list.get(i as usize).map(|s| &**s).unwrap_or("")
    }
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub strings: Strings,
    pub spaces: Vec<SpaceRow>,
    pub users: Vec<UserRow>,
    user_index: HashMap<String, u32>,
    /// Crowd (site backups): lower user name → (display name, e-mail).
    pub crowd_users: HashMap<String, (String, String)>,
    crowd_user_ids: HashMap<i64, String>,
    crowd_group_ids: HashMap<i64, String>,
    pub groups: Vec<String>,
    crowd_memberships: Vec<(i64, i64)>,
    pub memberships: Vec<(String, String)>,
    pub items: Items,
    pub props: HashMap<i64, PropRow>,
    /// contentProperties collections: property id → owner.
    prop_owner: HashMap<i64, i64>,
    pub labels: HashMap<i64, (String, String)>,
    /// (label id, content id, owning user)
    pub labellings: Vec<(i64, i64, Option<u32>)>,
    pub space_perms: Vec<SpacePermRow>,
    /// Restriction sets: id → (type, owning content).
    pub perm_sets: HashMap<i64, (String, i64)>,
    pub restrictions: Vec<RestrictionRow>,
    /// (content, user, date)
    pub likes: Vec<(i64, u32, Option<NaiveDateTime>)>,
    /// Watches: (content, space, receiver, a space's blog only).
    pub watches: Vec<(Option<i64>, Option<i64>, u32, bool)>,
    /// JSON content properties (REST's, stored by Confluence as custom
    /// content): id → (owner, key, version); the JSON is their body.
    pub json_props: HashMap<i64, (Option<i64>, String, i32)>,
    /// Page templates and legacy drafts kept as extras: (class, id, space, json).
    pub extras: Vec<(String, i64, Option<i64>, serde_json::Value)>,
    /// Objects knowingly not imported, per class.
    pub skipped: BTreeMap<String, u64>,
    /// Classes nobody told this importer about (not content), per class.
    pub unknown: BTreeMap<String, u64>,
    pub bodies: u64,
    pub objects: u64,
}

/// The plugin module of Confluence's JSON content properties (custom
/// content whose body is the JSON).
pub(crate) const CONTENT_PROPERTY_MODULE: &str =
    "com.atlassian.confluence.plugins.confluence-content-property-storage:content-property";

/// Classes that are derived, runtime or plugin state: counted, not imported.
const IGNORED: &[&str] = &[
    "OutgoingLink",
    "ReferralLink",
    "BucketPropertySetItem",
    "ConfluenceBandanaRecord",
    "User2ContentRelationEntity",
    "SchedulerClusteredJob",
    "DirectoryImpl",
    "ApplicationImpl",
    "DirectoryMapping",
    "InternalGroupAttribute",
    "InternalUserAttribute",
    "InternalUserCredentialRecord",
    "UserLoginInfo",
    "GlobalDescription",
    "PersonalInformation",
    "Trackback",
    "ContentPermissionSet_dummy",
    "ExternalMembership",
    "Reference",
    "ClusterSafety",
    "ConfluenceUserImpl_dummy",
];

pub(crate) fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

impl Model {
    pub(crate) fn str(&self, i: u32) -> &str {
        self.strings.get(i)
    }

    pub(crate) fn user(&mut self, key: &str) -> u32 {
        if let Some(i) = self.user_index.get(key) {
            return *i;
        }
        let i = self.users.len() as u32;
        self.users.push(UserRow {
            key: key.to_owned(),
            unknown: true,
            ..UserRow::default()
        });
        self.user_index.insert(key.to_owned(), i);
        i
    }

    fn user_ref(&mut self, o: &Object, name: &str) -> Option<u32> {
        match o.get(name) {
            Some(Value::Ref { id, .. }) if !id.trim().is_empty() => Some(self.user(id.trim())),
            _ => None,
        }
    }

    /// Records one object of the first pass.
    pub(crate) fn add(&mut self, o: Object) -> Result<(), ImportError> {
        self.objects += 1;
        let id = o.num_id();
        let need_id = || {
            id.ok_or_else(|| ImportError::Invalid(format!("{} has no numeric id", o.describe())))
        };
        match o.class.as_str() {
            "Page" | "BlogPost" | "Comment" | "Attachment" | "SpaceDescription" => {
                let id = need_id()?;
                let kind = match o.class.as_str() {
                    "Page" => Kind::Page,
                    "BlogPost" => Kind::BlogPost,
                    "Comment" => Kind::Comment,
                    "Attachment" => Kind::Attachment,
                    _ => Kind::SpaceDescription,
                };
                for (_, pid) in o.collection("contentProperties") {
                    if let Ok(p) = pid.trim().parse() {
                        self.prop_owner.insert(p, id);
                    }
                }
                let status = match o.text("contentStatus").map(str::trim) {
                    Some("current") | None => Status::Current,
                    Some("deleted") => Status::Deleted,
                    Some("draft") => Status::Draft,
                    Some(_) => Status::Other,
                };
                let original = o
                    .ref_id("originalVersion")
                    .or_else(|| o.long("originalVersionId"))
                    .filter(|&x| x != id && x != 0);
                // 4.x: Comment.owner, Attachment.content.
                let container = o
                    .ref_id("containerContent")
                    .or_else(|| o.ref_id("owner"))
                    .or_else(|| {
                        if kind == Kind::Attachment {
                            o.ref_id("content")
                        } else {
                            None
                        }
                    });
                let version = o.long("version").unwrap_or(1).clamp(1, i32::MAX as i64) as i32;
                let item = Item {
                    kind,
                    title: self
                        .strings
                        .intern(o.text("title").or(o.text("fileName")).unwrap_or("")),
                    version,
                    status,
                    space: o.ref_id("space"),
                    parent: o.ref_id("parent"),
                    position: o
                        .long("position")
                        .map(|p| p.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
                    original,
                    container,
                    creator: self.user_ref(&o, "creator"),
                    created: o.text("creationDate").and_then(parse_date),
                    modifier: self.user_ref(&o, "lastModifier"),
                    modified: o.text("lastModificationDate").and_then(parse_date),
                    comment: self
                        .strings
                        .intern(o.text("versionComment").or(o.text("comment")).unwrap_or("")),
                    file_size: o.long("fileSize"),
                    media_type: self.strings.intern(o.text("contentType").unwrap_or("")),
                };
                self.items.insert(id, item);
            }
            "BodyContent" => self.bodies += 1,
            "Space" => {
                let id = need_id()?;
                let creator = self.user_ref(&o, "creator");
                self.spaces.push(SpaceRow {
                    id,
                    key: o.text("key").unwrap_or("").trim().to_owned(),
                    name: o.text("name").unwrap_or("").to_owned(),
                    description: o.ref_id("description"),
                    home: o.ref_id("homePage"),
                    space_type: o.text("spaceType").unwrap_or("global").trim().to_owned(),
                    status: o.text("spaceStatus").unwrap_or("CURRENT").trim().to_owned(),
                    creator,
                    created: o.text("creationDate").and_then(parse_date),
                });
            }
            "ConfluenceUserImpl" => {
                let key = o.id.trim().to_owned();
                if key.is_empty() {
                    return Err(ImportError::Invalid(format!(
                        "{} has no user key",
                        o.describe()
                    )));
                }
                let i = self.user(&key) as usize;
                let u = &mut self.users[i];
                u.unknown = false;
                u.name = o.text("name").unwrap_or("").trim().to_owned();
                u.email = o.text("email").unwrap_or("").trim().to_owned();
            }
            "InternalUser" => {
                let name = o.text("name").unwrap_or("").trim().to_lowercase();
                let display = o.text("displayName").unwrap_or("").trim().to_owned();
                let email = o.text("emailAddress").unwrap_or("").trim().to_owned();
                if let Some(id) = id {
                    self.crowd_user_ids.insert(id, name.clone());
                }
                self.crowd_users.insert(name, (display, email));
            }
            "InternalGroup" => {
                let name = o.text("name").unwrap_or("").trim().to_owned();
                if let Some(id) = id {
                    self.crowd_group_ids.insert(id, name.clone());
                }
                self.groups.push(name);
            }
            "HibernateMembership" => {
                if let (Some(g), Some(u)) = (o.ref_id("parentGroup"), o.ref_id("userMember")) {
                    self.crowd_memberships.push((g, u));
                } else {
                    *self
                        .skipped
                        .entry("HibernateMembership (group in group)".into())
                        .or_default() += 1;
                }
            }
            "ContentProperty" => {
                let id = need_id()?;
                let value = o
                    .text("stringValue")
                    .map(str::to_owned)
                    .or_else(|| o.long("longValue").map(|v| v.to_string()))
                    .or_else(|| o.text("dateValue").map(str::to_owned))
                    .unwrap_or_default();
                self.props.insert(
                    id,
                    PropRow {
                        name: o.text("name").unwrap_or("").into(),
                        value: value.into(),
                        owner: o.ref_id("content"),
                    },
                );
            }
            "Label" => {
                let id = need_id()?;
                self.labels.insert(
                    id,
                    (
                        o.text("name").unwrap_or("").trim().to_owned(),
                        o.text("namespace").unwrap_or("global").trim().to_owned(),
                    ),
                );
            }
            "Labelling" => {
                let owner = self.user_ref(&o, "owningUser");
                match (o.ref_id("label"), o.ref_id("content")) {
                    (Some(l), Some(c)) => self.labellings.push((l, c, owner)),
                    _ => {
                        *self
                            .skipped
                            .entry("Labelling (not on content)".into())
                            .or_default() += 1
                    }
                }
            }
            "SpacePermission" => {
                let user = self.user_ref(&o, "userSubject");
                self.space_perms.push(SpacePermRow {
                    space: o.ref_id("space"),
                    kind: o.text("type").unwrap_or("").trim().to_owned(),
                    group: o
                        .text("group")
                        .map(|g| g.trim().to_owned())
                        .filter(|g| !g.is_empty()),
                    user,
                });
            }
            "ContentPermissionSet" => {
                let id = need_id()?;
                match o.ref_id("owningContent") {
                    Some(c) => {
                        self.perm_sets
                            .insert(id, (o.text("type").unwrap_or("").trim().to_owned(), c));
                    }
                    None => {
                        return Err(ImportError::Invalid(format!(
                            "{} names no owningContent",
                            o.describe()
                        )))
                    }
                }
            }
            "ContentPermission" => {
                let user = self.user_ref(&o, "userSubject");
                let Some(set) = o.ref_id("owningSet") else {
                    return Err(ImportError::Invalid(format!(
                        "{} names no owningSet",
                        o.describe()
                    )));
                };
                self.restrictions.push(RestrictionRow {
                    set,
                    kind: o.text("type").unwrap_or("").trim().to_owned(),
                    group: o
                        .text("groupName")
                        .map(|g| g.trim().to_owned())
                        .filter(|g| !g.is_empty()),
                    user,
                });
            }
            "LikeEntity" => {
                let user = self.user_ref(&o, "user");
                match (o.ref_id("content"), user) {
                    (Some(c), Some(u)) => {
                        self.likes
                            .push((c, u, o.text("creationDate").and_then(parse_date)))
                    }
                    _ => {
                        *self
                            .skipped
                            .entry("LikeEntity (incomplete)".into())
                            .or_default() += 1
                    }
                }
            }
            "CustomContentEntityObject" => {
                let key = o.text("pluginModuleKey").unwrap_or("");
                if key == CONTENT_PROPERTY_MODULE {
                    let id = need_id()?;
                    let owner = o.ref_id("containerContent").or_else(|| o.ref_id("page"));
                    let version = o.long("version").unwrap_or(1) as i32;
                    let name = o.text("title").unwrap_or("").to_owned();
                    self.json_props.insert(id, (owner, name, version));
                } else {
                    *self
                        .skipped
                        .entry("CustomContentEntityObject".into())
                        .or_default() += 1;
                }
            }
            "Notification" => {
                let receiver = self.user_ref(&o, "receiver");
                let blog = o
                    .text("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("blog"));
                match receiver {
                    Some(r) => self
                        .watches
                        .push((o.ref_id("content"), o.ref_id("space"), r, blog)),
                    None => {
                        *self
                            .skipped
                            .entry("Notification (no receiver)".into())
                            .or_default() += 1
                    }
                }
            }
            "PageTemplate" | "Draft" => {
                let id = need_id()?;
                let mut data = serde_json::Map::new();
                for (n, v) in &o.props {
                    let j = match v {
                        Value::Null => serde_json::Value::Null,
                        Value::Text(t) => serde_json::Value::String(t.clone()),
                        Value::Ref { class, id } => serde_json::json!({"class": class, "id": id}),
                    };
                    data.insert(n.clone(), j);
                }
                self.extras
                    .push((o.class.clone(), id, o.ref_id("space"), data.into()));
            }
            c if IGNORED.contains(&c) => *self.skipped.entry(c.to_owned()).or_default() += 1,
            c => {
                let content_like = !o.collection("bodyContents").is_empty()
                    || o.package.ends_with(".pages")
                    || o.package.ends_with(".pages.templates");
                if content_like {
                    return Err(ImportError::Invalid(format!(
                        "unknown content class {c} (package {}) in object {}: importing without it would lose content",
                        o.package,
                        o.describe()
                    )));
                }
                *self
                    .unknown
                    .entry(format!("{c} ({})", o.package))
                    .or_default() += 1;
            }
        }
        Ok(())
    }

    /// Resolves what the first pass could not while streaming: property
    /// owners, Crowd memberships and display names.
    pub(crate) fn finish(&mut self) {
        self.items.sort();
        for (pid, owner) in std::mem::take(&mut self.prop_owner) {
            if let Some(p) = self.props.get_mut(&pid) {
                p.owner.get_or_insert(owner);
            }
        }
        for (g, u) in std::mem::take(&mut self.crowd_memberships) {
            if let (Some(g), Some(u)) = (self.crowd_group_ids.get(&g), self.crowd_user_ids.get(&u))
            {
                self.memberships.push((g.clone(), u.clone()));
            }
        }
        for u in &mut self.users {
            if let Some((display, email)) = self.crowd_users.get(&u.name.to_lowercase()) {
                if !display.is_empty() {
                    u.display_name = display.clone();
                }
                if u.email.is_empty() {
                    u.email = email.clone();
                }
            }
        }
    }

    /// Properties per owner (FILESIZE, MEDIA_TYPE, MINOR_EDIT, …).
    pub(crate) fn props_by_owner(&self) -> HashMap<i64, Vec<i64>> {
        let mut m: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, p) in &self.props {
            if let Some(o) = p.owner {
                m.entry(o).or_default().push(*id);
            }
        }
        m
    }
}
