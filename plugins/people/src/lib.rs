//! First-party plugin `cairn.people`: Confluence's `profile` macro (a person's
//! card: picture, name, username, e-mail for signed-in readers, personal space) and
//! `contributors` (who wrote, commented on or watches a page, the pages under it, or
//! whole spaces; by count, name or latest activity).
//!
//! Everything is read as the viewing user through the `people` capability (which
//! never counts what the viewer may not see) and `content` (to find the pages named
//! in `page`). Anyone could write this plugin with the same interfaces. Cacheable:
//! the output depends only on the call and what it reads.

use cairn_plugin_sdk::people::{self, Contributor, ContributorQuery, Profile};
use cairn_plugin_sdk::*;

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&Host, &call, &ctx),
}

fn specs() -> Vec<MacroSpec> {
    vec![
        MacroSpec::new("profile", "User profile")
            .cacheable(true)
            .description("A person's card: picture, name, e-mail and personal space")
            .param(ParamSpec::new("user", "The person (user key or username)").of(ParamType::User).required()),
        MacroSpec::new("contributors", "Contributors")
            .cacheable(true)
            .description("Who wrote, commented on or watches this page, the pages under it, or whole spaces")
            .param(ParamSpec::new("include", "What counts, comma separated: authors (default), comments, watches"))
            .param(ParamSpec::new("order", "count (default), name or editTime").values(&["count", "name", "editTime"]).default("count"))
            .param(ParamSpec::new("reverse", "Reverse the order").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("limit", "Most people to list").of(ParamType::Int))
            .param(ParamSpec::new("mode", "inline (default: names in a sentence) or list").values(&["inline", "list"]).default("inline"))
            .param(ParamSpec::new("showCount", "Show each person's number of contributions").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("showLastTime", "Show when each last contributed").of(ParamType::Boolean).default("false"))
            .param(ParamSpec::new("page", "The page (default: this one); \"SPACE:Title\" for another space").of(ParamType::Page))
            .param(ParamSpec::new("labels", "Only pages with one of these labels, comma separated").of(ParamType::Label))
            .param(ParamSpec::new("spaces", "Every page of these spaces instead of one page, comma separated; @self for this space").of(ParamType::Space))
            .param(ParamSpec::new("scope", "children or descendants: the pages under the page too").values(&["children", "descendants"]))
            .param(ParamSpec::new("noneFoundMessage", "What to say when nobody contributed")),
    ]
}

/// What the macros read, behind a trait so the logic is testable natively.
trait Store {
    fn person(&self, who: &str) -> Option<Profile>;
    fn contributors(&self, q: &ContributorQuery) -> Result<Vec<Contributor>, String>;
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64>;
}

struct Host;

impl Store for Host {
    fn person(&self, who: &str) -> Option<Profile> {
        people::person(who)
    }
    fn contributors(&self, q: &ContributorQuery) -> Result<Vec<Contributor>, String> {
        people::contributors(q)
    }
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64> {
        content::find(space_key, title).map(|p| p.summary.id)
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bad(p: &str, why: String) -> RenderError {
    RenderError::InvalidParameter((p.into(), why))
}

fn render(s: &impl Store, call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    match call.name.to_ascii_lowercase().as_str() {
        "profile" => profile(s, call),
        "contributors" => contributors(s, call, ctx),
        other => Err(fail(format!("the people plugin has no macro \"{other}\""))),
    }
}

fn profile(s: &impl Store, call: &MacroCall) -> Result<String, RenderError> {
    let who = call
        .param_nonempty("user")
        .or_else(|| call.param_nonempty(""))
        .ok_or_else(|| bad("user", "name the person (user key or username)".into()))?;
    let p = s
        .person(who)
        .ok_or_else(|| RenderError::NotFound(format!("user: nobody here is \"{who}\"")))?;
    let mut out = String::from("<div class=\"profile-card\">");
    out.push_str(&format!(
        "<img class=\"avatar\" src=\"{}\" alt=\"\" width=\"48\" height=\"48\">",
        escape(&p.avatar_url)
    ));
    out.push_str(&format!(
        "<div class=\"profile-card-body\"><a class=\"profile-card-name\" href=\"{}\">{}</a>",
        escape(&p.url),
        escape(&p.user.display_name)
    ));
    if !p.active {
        out.push_str(" <span class=\"status-lozenge\">deactivated</span>");
    }
    out.push_str(&format!(
        "<div class=\"profile-card-meta\">@{}",
        escape(&p.user.username)
    ));
    if !p.email.is_empty() {
        out.push_str(&format!(
            " · <a href=\"mailto:{0}\">{0}</a>",
            escape(&p.email)
        ));
    }
    out.push_str("</div>");
    if let Some(key) = &p.personal_space {
        out.push_str(&format!(
            "<div class=\"profile-card-space\"><a href=\"/spaces/{}\">Personal space</a></div>",
            escape(key)
        ));
    }
    out.push_str("</div></div>");
    Ok(out)
}

fn contributors(
    s: &impl Store,
    call: &MacroCall,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let include = list(call.param("include").unwrap_or_default());
    let order = call
        .param_nonempty("order")
        .unwrap_or("count")
        .to_ascii_lowercase();
    if !["count", "name", "edittime", "update"].contains(&order.as_str()) {
        return Err(bad(
            "order",
            format!("{order:?} is not count, name or editTime"),
        ));
    }
    let limit = call.int("limit", 1000)?;
    if limit < 1 {
        return Err(bad("limit", "must be at least 1".into()));
    }
    let mode = call
        .param_nonempty("mode")
        .unwrap_or("inline")
        .to_ascii_lowercase();
    if !["inline", "list"].contains(&mode.as_str()) {
        return Err(bad("mode", format!("{mode:?} is not inline or list")));
    }
    let spaces: Vec<String> = list(call.param("spaces").unwrap_or_default())
        .into_iter()
        .map(|k| match k.to_ascii_lowercase().as_str() {
            "@self" | "currentspace()" => ctx.space_key.clone(),
            _ => k,
        })
        .collect();
    let page_ids = match call.param_nonempty("page") {
        Some(item) => {
            let (space, title) = match item.split_once(':') {
                Some((sp, t))
                    if !sp.trim().is_empty() && !sp.contains(' ') && !t.trim().is_empty() =>
                {
                    (sp.trim().to_owned(), t.trim().to_owned())
                }
                _ => (ctx.space_key.clone(), item.to_owned()),
            };
            vec![s
                .page_id(&space, &title)
                .or_else(|| s.page_id(&ctx.space_key, item))
                .ok_or_else(|| {
                    RenderError::NotFound(format!(
                        "page: there is no page \"{title}\" in space {space}, or you may not view it"
                    ))
                })?]
        }
        None if !spaces.is_empty() => Vec::new(),
        None => ctx.page_id.into_iter().collect(),
    };
    let q = ContributorQuery {
        page_ids,
        scope: call.param("scope").unwrap_or_default().trim().to_owned(),
        space_keys: spaces,
        labels: list(call.param("labels").unwrap_or_default()),
        include,
        limit: 1000,
    };
    let mut people = s.contributors(&q).map_err(|e| {
        let param = e.split(':').next().unwrap_or("").trim().to_owned();
        if param == "scope" || param == "include" {
            bad(&param, e.clone())
        } else {
            fail(e)
        }
    })?;
    match order.as_str() {
        "name" => people.sort_by_key(|c| c.user.display_name.to_lowercase()),
        "edittime" | "update" => people.sort_by(|a, b| b.last_active.cmp(&a.last_active)),
        _ => {}
    }
    if call.flag("reverse") {
        people.reverse();
    }
    people.truncate(limit as usize);
    if people.is_empty() {
        let msg = call
            .param_nonempty("noneFoundMessage")
            .unwrap_or("Nobody has contributed yet.");
        return Ok(format!(
            "<span class=\"contributors-none\">{}</span>",
            escape(msg)
        ));
    }
    let (count, last) = (call.flag("showCount"), call.flag("showLastTime"));
    let item = |c: &Contributor| {
        let mut h = format!(
            "<a class=\"confluence-userlink\" href=\"/users/{}\">{}</a>",
            escape(&c.user.username),
            escape(&c.user.display_name)
        );
        if count {
            h.push_str(&format!(
                " <span class=\"contributor-count\">({})</span>",
                c.edits + c.comments + c.watches
            ));
        }
        if last && !c.last_active.is_empty() {
            let day = c.last_active.get(..10).unwrap_or(&c.last_active);
            h.push_str(&format!(
                " <time class=\"contributor-last\" datetime=\"{0}\">{0}</time>",
                escape(day)
            ));
        }
        h
    };
    if mode == "list" {
        let items: String = people
            .iter()
            .map(|c| format!("<li>{}</li>", item(c)))
            .collect();
        Ok(format!("<ul class=\"contributors\">{items}</ul>"))
    } else {
        let names: Vec<String> = people.iter().map(item).collect();
        Ok(format!(
            "<span class=\"contributors\">{}</span>",
            names.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests;
