//! The built-in blueprints: meeting notes, decision, how-to, troubleshooting
//! article, retrospective and product requirements. Each gives a body with
//! variables (filled from a short form, like a template's), a label, a title
//! (dated, or typed by the author) and an index page that lists its pages
//! and is created with the first of them.
//!
//! Invariant: a blueprint adds nothing until the author saves the page;
//! its index page is found by title in the space (so a renamed or deleted
//! index is simply made again) and created with the author's rights.

use deadpool_postgres::GenericClient;

use crate::content::{self, ContentType, Space};
use crate::error::{Error, Result};
use crate::perms::{SpacePerm, Viewer};

/// One blueprint.
#[derive(Debug)]
pub struct Blueprint {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// The label every page made from it carries.
    pub label: &'static str,
    /// The title: "{date}" is replaced by the date variable; empty when the
    /// author types the title.
    pub title: &'static str,
    pub index_title: &'static str,
    pub index_intro: &'static str,
    pub body: &'static str,
}

/// Every blueprint, in the order the Create screen lists them.
pub static ALL: [Blueprint; 6] = [
    Blueprint {
        key: "meeting-notes",
        name: "Meeting notes",
        description: "Agenda, attendees, notes and action items of a meeting",
        label: "meeting-notes",
        title: "{date} Meeting notes",
        index_title: "Meeting notes",
        index_intro: "<p>All meeting notes of this space, newest first.</p>",
        body: concat!(
            "<at:declarations><at:string at:name=\"date\" /><at:string at:name=\"attendees\" /><at:textarea at:name=\"goals\" at:rows=\"3\" at:columns=\"60\" /></at:declarations>",
            "<h2>Date</h2><p><time datetime=\"@date@\" /></p>",
            "<h2>Attendees</h2><ul><li><at:var at:name=\"attendees\" /></li></ul>",
            "<h2>Goals</h2><p><at:var at:name=\"goals\" /></p>",
            "<h2>Discussion items</h2><table><tbody><tr><th>Time</th><th>Item</th><th>Who</th><th>Notes</th></tr><tr><td><br /></td><td><br /></td><td><br /></td><td><br /></td></tr></tbody></table>",
            "<h2>Action items</h2>",
            "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Type your task here, using @ to assign it</ac:task-body></ac:task></ac:task-list>",
        ),
    },
    Blueprint {
        key: "decision",
        name: "Decision",
        description: "Record a decision, its background, the options and who decided",
        label: "decisions",
        title: "",
        index_title: "Decision log",
        index_intro: "<p>Every decision of this space.</p>",
        body: concat!(
            "<at:declarations><at:list at:name=\"status\"><at:option at:value=\"Not started\" /><at:option at:value=\"In progress\" /><at:option at:value=\"Decided\" /></at:list><at:string at:name=\"owner\" /><at:string at:name=\"due\" /></at:declarations>",
            "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tbody>",
            "<tr><th>Status</th><td><at:var at:name=\"status\" /></td></tr>",
            "<tr><th>Owner</th><td><at:var at:name=\"owner\" /></td></tr>",
            "<tr><th>Due date</th><td><at:var at:name=\"due\" /></td></tr>",
            "<tr><th>Outcome</th><td><br /></td></tr>",
            "</tbody></table></ac:rich-text-body></ac:structured-macro>",
            "<h2>Background</h2><p><ac:placeholder>Why this needs a decision</ac:placeholder></p>",
            "<h2>Options considered</h2><table><tbody><tr><th><br /></th><th>Option 1</th><th>Option 2</th></tr><tr><th>Pros and cons</th><td><br /></td><td><br /></td></tr></tbody></table>",
            "<h2>Action items</h2>",
            "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Type your task here, using @ to assign it</ac:task-body></ac:task></ac:task-list>",
        ),
    },
    Blueprint {
        key: "how-to",
        name: "How-to article",
        description: "Step-by-step instructions for a task",
        label: "kb-how-to-article",
        title: "",
        index_title: "How-to articles",
        index_intro: "<p>Step-by-step guides of this space.</p>",
        body: concat!(
            "<p><ac:placeholder>Describe in a sentence what this article helps with.</ac:placeholder></p>",
            "<h2>Instructions</h2><ol><li>First step</li><li>Second step</li><li>Third step</li></ol>",
            "<ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Highlight important information in a panel like this one.</p></ac:rich-text-body></ac:structured-macro>",
            "<h2>Related articles</h2>",
            "<ac:structured-macro ac:name=\"contentbylabel\"><ac:parameter ac:name=\"labels\">kb-how-to-article</ac:parameter><ac:parameter ac:name=\"spaces\">@self</ac:parameter><ac:parameter ac:name=\"max\">5</ac:parameter></ac:structured-macro>",
        ),
    },
    Blueprint {
        key: "troubleshooting",
        name: "Troubleshooting article",
        description: "A problem, its cause and how to solve it",
        label: "kb-troubleshooting-article",
        title: "",
        index_title: "Troubleshooting articles",
        index_intro: "<p>Known problems and their solutions.</p>",
        body: concat!(
            "<h2>Problem</h2><p><ac:placeholder>What the reader sees go wrong</ac:placeholder></p>",
            "<h2>Cause</h2><p><ac:placeholder>Why it happens</ac:placeholder></p>",
            "<h2>Solution</h2><ol><li>First step</li><li>Second step</li></ol>",
            "<h2>Related articles</h2>",
            "<ac:structured-macro ac:name=\"contentbylabel\"><ac:parameter ac:name=\"labels\">kb-troubleshooting-article</ac:parameter><ac:parameter ac:name=\"spaces\">@self</ac:parameter><ac:parameter ac:name=\"max\">5</ac:parameter></ac:structured-macro>",
        ),
    },
    Blueprint {
        key: "retrospective",
        name: "Retrospective",
        description: "What went well, what did not, and what the team will change",
        label: "retrospective",
        title: "Retrospective {date}",
        index_title: "Retrospectives",
        index_intro: "<p>The team's retrospectives, newest first.</p>",
        body: concat!(
            "<at:declarations><at:string at:name=\"date\" /><at:string at:name=\"attendees\" /></at:declarations>",
            "<h2>Date</h2><p><time datetime=\"@date@\" /></p>",
            "<h2>Participants</h2><ul><li><at:var at:name=\"attendees\" /></li></ul>",
            "<h2>What went well</h2><ul><li><br /></li></ul>",
            "<h2>What could be improved</h2><ul><li><br /></li></ul>",
            "<h2>Actions</h2>",
            "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Type your task here, using @ to assign it</ac:task-body></ac:task></ac:task-list>",
        ),
    },
    Blueprint {
        key: "requirements",
        name: "Product requirements",
        description: "Goals, background, requirements and open questions of a feature",
        label: "requirements",
        title: "",
        index_title: "Product requirements",
        index_intro: "<p>Requirements documents of this space.</p>",
        body: concat!(
            "<at:declarations><at:string at:name=\"release\" /><at:list at:name=\"status\"><at:option at:value=\"Draft\" /><at:option at:value=\"In review\" /><at:option at:value=\"Approved\" /></at:list><at:string at:name=\"owner\" /></at:declarations>",
            "<ac:structured-macro ac:name=\"details\"><ac:rich-text-body><table><tbody>",
            "<tr><th>Target release</th><td><at:var at:name=\"release\" /></td></tr>",
            "<tr><th>Document status</th><td><at:var at:name=\"status\" /></td></tr>",
            "<tr><th>Document owner</th><td><at:var at:name=\"owner\" /></td></tr>",
            "<tr><th>Designer</th><td><br /></td></tr><tr><th>Developers</th><td><br /></td></tr><tr><th>QA</th><td><br /></td></tr>",
            "</tbody></table></ac:rich-text-body></ac:structured-macro>",
            "<h2>Goals</h2><ul><li><br /></li></ul><h2>Background and strategic fit</h2><p><br /></p>",
            "<h2>Assumptions</h2><ul><li><br /></li></ul>",
            "<h2>Requirements</h2><table><tbody><tr><th>#</th><th>Title</th><th>User story</th><th>Importance</th><th>Notes</th></tr><tr><td>1</td><td><br /></td><td><br /></td><td>Must have</td><td><br /></td></tr></tbody></table>",
            "<h2>Questions</h2><table><tbody><tr><th>Question</th><th>Outcome</th></tr><tr><td><br /></td><td><br /></td></tr></tbody></table>",
            "<h2>Not doing</h2><ul><li><br /></li></ul>",
        ),
    },
];

/// A blueprint by key.
pub fn by_key(key: &str) -> Result<&'static Blueprint> {
    ALL.iter()
        .find(|b| b.key == key)
        .ok_or_else(|| Error::NotFound(format!("No blueprint {key:?}")))
}

impl Blueprint {
    /// The index page's body: the introduction and the list of its pages
    /// (the page properties report when the pages carry properties).
    pub fn index_body(&self) -> String {
        let report = if self.body.contains("ac:name=\"details\"") {
            format!(
                "<ac:structured-macro ac:name=\"detailssummary\"><ac:parameter ac:name=\"label\">{}</ac:parameter><ac:parameter ac:name=\"spaces\">@self</ac:parameter><ac:parameter ac:name=\"sortBy\">modified</ac:parameter></ac:structured-macro>",
                self.label
            )
        } else {
            format!(
                "<ac:structured-macro ac:name=\"contentbylabel\"><ac:parameter ac:name=\"labels\">{}</ac:parameter><ac:parameter ac:name=\"spaces\">@self</ac:parameter><ac:parameter ac:name=\"max\">50</ac:parameter><ac:parameter ac:name=\"sort\">creation</ac:parameter><ac:parameter ac:name=\"reverse\">true</ac:parameter></ac:structured-macro>",
                self.label
            )
        };
        format!("{}{report}", self.index_intro)
    }

    /// The title of a new page: the pattern with its date, or `typed`.
    pub fn title_for(&self, date: &str, typed: &str) -> String {
        if self.title.is_empty() {
            typed.trim().to_owned()
        } else {
            self.title.replace("{date}", date.trim())
        }
    }
}

/// Whether each blueprint is offered in a space (all are, unless switched
/// off there).
pub async fn enabled(
    db: &impl GenericClient,
    space_id: i64,
) -> Result<Vec<(&'static Blueprint, bool)>> {
    let off: Vec<String> = crate::db::query(
        db,
        "SELECT blueprint FROM space_blueprints WHERE space_id = $1 AND NOT enabled",
        &[&space_id],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    Ok(ALL
        .iter()
        .map(|b| (b, !off.iter().any(|o| o == b.key)))
        .collect())
}

/// Switches a blueprint on or off in a space (space administrators).
pub async fn set_enabled(
    db: &impl GenericClient,
    viewer: &Viewer,
    space: &Space,
    key: &str,
    on: bool,
) -> Result<()> {
    viewer
        .require_space_perm(db, space.id, SpacePerm::Admin)
        .await?;
    by_key(key)?;
    crate::db::execute(
        db,
        "INSERT INTO space_blueprints (space_id, blueprint, enabled) VALUES ($1, $2, $3)
         ON CONFLICT (space_id, blueprint) DO UPDATE SET enabled = EXCLUDED.enabled",
        &[&space.id, &key, &on],
    )
    .await?;
    Ok(())
}

/// The body of a new page from `b` with the form's values; `people`
/// (usernames) become mentions where the body lists attendees.
pub async fn fill(
    db: &impl GenericClient,
    b: &Blueprint,
    values: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<String> {
    let names: Vec<String> = values("attendees")
        .unwrap_or_default()
        .split([',', ';', ' '])
        .map(|s| s.trim().trim_start_matches('@').to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let mut mentions = Vec::new();
    for n in &names {
        let key: Option<String> = crate::db::query_opt(
            db,
            "SELECT user_key FROM users WHERE lower(username) = $1",
            &[n],
        )
        .await?
        .map(|r| r.get(0));
        match key {
            Some(k) => mentions.push(format!("<ac:link><ri:user ri:userkey=\"{k}\" /></ac:link>")),
            None => {
                return Err(Error::BadRequest(format!(
                    "nobody here has the username {n:?}"
                )))
            }
        }
    }
    // The date goes into an attribute (`<time datetime>`), where a variable
    // element cannot: it is checked, then put in place of `@date@`.
    let date = values("date").unwrap_or_default();
    let date = date.trim();
    if b.body.contains("@date@") {
        let ok = date.len() == 10
            && date.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !ok {
            return Err(Error::BadRequest(format!(
                "the date must be written YYYY-MM-DD, not {date:?}"
            )));
        }
    }
    let body = b.body.replace("@date@", date).replace(
        "<ul><li><at:var at:name=\"attendees\" /></li></ul>",
        &if mentions.is_empty() {
            "<ul><li><br /></li></ul>".to_owned()
        } else {
            format!("<ul><li>{}</li></ul>", mentions.join("</li><li>"))
        },
    );
    super::apply(&body, values)
}

/// The index page of `b` in the space, made when it is missing; its id.
/// When it exists but the author may not see it, the page goes to the top
/// of the space instead (None) rather than beside a hidden parent.
pub async fn index_page(
    db: &mut deadpool_postgres::Object,
    viewer: &Viewer,
    space: &Space,
    b: &Blueprint,
) -> Result<Option<i64>> {
    let existing: Option<i64> = crate::db::query_opt(
        &*db,
        "SELECT id FROM content WHERE space_id = $1 AND content_type = 'page' AND status = 'current'
         AND lower(title) = lower($2) ORDER BY id LIMIT 1",
        &[&space.id, &b.index_title],
    )
    .await?
    .map(|r| r.get(0));
    if let Some(id) = existing {
        return Ok(content::get(&*db, viewer, id).await.ok().map(|c| c.id));
    }
    let body = b.index_body();
    let labels = [format!("{}-index", b.label)];
    let made = content::create(
        db,
        viewer,
        content::NewContent {
            content_type: ContentType::Page,
            space_key: &space.key,
            title: b.index_title,
            body: &body,
            parent_id: space.homepage_id,
            message: "Created for the blueprint",
            labels: &labels,
            posting_day: None,
        },
    )
    .await;
    match made {
        Ok(c) => Ok(Some(c.id)),
        // Made by someone else meanwhile: use theirs.
        Err(Error::BadRequest(_)) => Ok(crate::db::query_opt(
            &*db,
            "SELECT id FROM content WHERE space_id = $1 AND content_type = 'page' AND status = 'current'
             AND lower(title) = lower($2) ORDER BY id LIMIT 1",
            &[&space.id, &b.index_title],
        )
        .await?
        .map(|r| r.get(0))),
        Err(e) => Err(e),
    }
}

/// `key`, if the space offers it (a space admin may have switched it off).
pub async fn offered(
    db: &impl GenericClient,
    space_id: i64,
    key: &str,
) -> Result<&'static Blueprint> {
    let b = by_key(key)?;
    let on = enabled(db, space_id)
        .await?
        .iter()
        .any(|(x, on)| x.key == b.key && *on);
    if !on {
        return Err(Error::BadRequest(format!(
            "the {} blueprint is switched off in this space",
            b.name
        )));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_blueprint_is_well_formed_and_its_variables_parse() {
        for b in &ALL {
            crate::content::validate_body(b.body).unwrap_or_else(|e| panic!("{}: {e}", b.key));
            crate::content::validate_body(&b.index_body()).unwrap();
            let vars = super::super::variables(b.body).unwrap();
            let filled = super::super::apply(b.body, &|n| Some(format!("value of {n}"))).unwrap();
            assert!(
                !filled.contains("at:var") && !filled.contains("at:declarations"),
                "{}",
                b.key
            );
            if b.title.contains("{date}") {
                assert!(vars.iter().any(|v| v.name == "date"), "{}", b.key);
            }
        }
    }
}
