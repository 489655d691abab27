//! First-party plugin `cairn.page-macros`: the standard layout and media macros of real
//! Confluence pages — `section` and `column` (the pre-layout page columns), `gallery`,
//! the `view-file` family (`viewpdf`, `viewdoc`, `viewxls`, `viewppt`), `widget` and
//! `multimedia`, `livesearch`, and `blog-posts`.
//!
//! Everything is read through the `content` capability, as the viewer: an attachment or
//! post the viewer may not see is exactly like one that does not exist. Nothing embeds
//! foreign script or frames: a widget is a link card naming its provider, a video a
//! link to play it, a document a card that opens it. Every value is escaped.

use cairn_plugin_sdk::content::{self, Attachment, ContentSummary};
use cairn_plugin_sdk::*;

export_macros! {
    describe: specs(),
    render: |call, ctx| render(&call, &ctx),
}

const VIEWERS: [(&str, &str); 5] = [
    ("view-file", "View file"),
    ("viewpdf", "PDF"),
    ("viewdoc", "Word document"),
    ("viewxls", "Excel spreadsheet"),
    ("viewppt", "PowerPoint presentation"),
];

fn size_params(s: MacroSpec) -> MacroSpec {
    s.param(ParamSpec::new(
        "height",
        "Accepted for compatibility; ignored",
    ))
    .param(ParamSpec::new(
        "width",
        "Accepted for compatibility; ignored",
    ))
}

fn specs() -> Vec<MacroSpec> {
    let page = || {
        ParamSpec::new(
            "page",
            "The page the file is attached to (default: this page)",
        )
        .of(ParamType::Page)
    };
    let mut v = vec![
        MacroSpec::new("section", "Section")
            .description("A row of columns (put column macros inside)")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(
                ParamSpec::new("border", "Draw a border")
                    .of(ParamType::Boolean)
                    .default("false"),
            ),
        MacroSpec::new("column", "Column")
            .description("One column of a section")
            .body(BodyKind::RichText)
            .cacheable(true)
            .param(ParamSpec::new(
                "width",
                "Width, e.g. 30% or 200px (default: an equal share)",
            )),
        MacroSpec::new("gallery", "Gallery")
            .description("The images attached to a page, as a grid of thumbnails")
            .cacheable(true)
            .param(page())
            .param(ParamSpec::new("title", "Heading above the gallery"))
            .param(
                ParamSpec::new("columns", "Images per row")
                    .of(ParamType::Int)
                    .default("4"),
            )
            .param(ParamSpec::new(
                "include",
                "Only these file names (comma separated)",
            ))
            .param(ParamSpec::new(
                "exclude",
                "Not these file names (comma separated)",
            ))
            .param(
                ParamSpec::new("sort", "name (default), comment, date or size")
                    .values(&["name", "comment", "date", "size"]),
            )
            .param(
                ParamSpec::new("reverse", "Reverse the order")
                    .of(ParamType::Boolean)
                    .default("false"),
            ),
    ];
    for (name, title) in VIEWERS {
        v.push(size_params(
            MacroSpec::new(name, title)
                .description(
                    "Shows an attached file: images inline, other files as a card that opens them",
                )
                .cacheable(true)
                .param(ParamSpec::new("name", "The attached file").required())
                .param(page()),
        ));
    }
    v.push(size_params(
        MacroSpec::new("widget", "Widget connector")
            .description("A link card for a video, map or post on another site (no foreign script runs here)")
            .cacheable(true)
            .param(ParamSpec::new("url", "The address to show").of(ParamType::Url).required()),
    ));
    v.push(
        size_params(
            MacroSpec::new("multimedia", "Multimedia")
                .description("An attached video or sound file, as a link that plays it")
                .cacheable(true)
                .param(ParamSpec::new("name", "The attached file").required())
                .param(page()),
        )
        .param(
            ParamSpec::new("autostart", "Accepted for compatibility; ignored")
                .of(ParamType::Boolean),
        ),
    );
    v.push(
        MacroSpec::new("livesearch", "Live search")
            .description("A search box, optionally limited to one space")
            .cacheable(true)
            .param(ParamSpec::new("spaceKey", "Search only this space").of(ParamType::Space))
            .param(ParamSpec::new("placeholder", "Text shown in the empty box"))
            .param(ParamSpec::new(
                "type",
                "page, blogpost, comment or attachment (default: all)",
            ))
            .param(ParamSpec::new(
                "size",
                "Accepted for compatibility; ignored",
            ))
            .param(ParamSpec::new(
                "additional",
                "Accepted for compatibility; ignored",
            ))
            .param(ParamSpec::new("labels", "Only content with this label").of(ParamType::Label))
            .param(ParamSpec::new("id", "Accepted for compatibility; ignored")),
    );
    v.push(
        MacroSpec::new("blog-posts", "Blog posts")
            .description("The newest blog posts, as titles, excerpts or whole posts")
            .cacheable(true)
            .param(
                ParamSpec::new("max", "Most posts to show")
                    .of(ParamType::Int)
                    .default("15"),
            )
            .param(
                ParamSpec::new(
                    "spaces",
                    "Space keys, comma separated; @all for every space (default: this space)",
                )
                .of(ParamType::Space),
            )
            .param(
                ParamSpec::new("labels", "Only posts with one of these labels")
                    .of(ParamType::Label),
            )
            .param(
                ParamSpec::new("content", "titles, excerpts or entire (default)")
                    .values(&["titles", "excerpts", "entire"])
                    .default("entire"),
            )
            .param(ParamSpec::new(
                "time",
                "Only posts from the last 7d, 2w, 3m…",
            ))
            .param(
                ParamSpec::new("sort", "creation (default), title or modified")
                    .values(&["creation", "title", "modified"]),
            )
            .param(
                ParamSpec::new("reverse", "Reverse the order")
                    .of(ParamType::Boolean)
                    .default("false"),
            ),
    );
    v
}

fn render(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let name = call.name.to_ascii_lowercase();
    match name.as_str() {
        "section" => Ok(section(call)),
        "column" => Ok(column(call)),
        "gallery" => gallery(call, ctx),
        "multimedia" => multimedia(call, ctx),
        n if VIEWERS.iter().any(|(v, _)| *v == n) => view_file(call, ctx),
        "widget" => widget(call),
        "livesearch" => Ok(livesearch(call)),
        "blog-posts" => blog_posts(call, ctx),
        other => Err(fail(format!(
            "the page-macros plugin has no macro \"{other}\""
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// section and column

fn section(call: &MacroCall) -> String {
    let class = if call.flag("border") {
        "section-macro bordered"
    } else {
        "section-macro"
    };
    format!("<div class=\"{class}\">{}</div>", call.body)
}

/// A width as Confluence writes it (`30%`, `200px`, `200`), or None.
fn css_width(v: &str) -> Option<String> {
    let v = v.trim();
    let (num, unit) = match v.strip_suffix('%') {
        Some(n) => (n, "%"),
        None => (v.strip_suffix("px").unwrap_or(v), "px"),
    };
    let n: f64 = num.trim().parse().ok()?;
    let ok = n > 0.0 && if unit == "%" { n <= 100.0 } else { n <= 4000.0 };
    ok.then(|| format!("{n}{unit}"))
}

fn column(call: &MacroCall) -> String {
    match call.param_nonempty("width").and_then(css_width) {
        Some(w) => format!(
            "<div class=\"column-macro\" style=\"width: {w}\">{}</div>",
            call.body
        ),
        None => format!("<div class=\"column-macro\">{}</div>", call.body),
    }
}

// ---------------------------------------------------------------------------------------
// attachments: gallery, view-file, multimedia

/// The page a macro reads attachments from: its `page` parameter ("Title" or
/// "SPACE:Title") or the page being rendered.
fn attachment_page(call: &MacroCall, ctx: &RenderContext) -> Result<Option<i64>, RenderError> {
    let Some(v) = call.param_nonempty("page") else {
        return Ok(ctx.page_id);
    };
    let (space, title) = match v.split_once(':') {
        Some((s, t)) if !s.is_empty() && !s.contains(' ') => (s.trim(), t.trim()),
        _ => (ctx.space_key.as_str(), v.trim()),
    };
    content::find(space, title)
        .map(|p| Some(p.summary.id))
        .ok_or_else(|| {
            RenderError::NotFound(format!(
                "page: there is no page \"{title}\" in space {space}, or you may not view it"
            ))
        })
}

fn is_image(a: &Attachment) -> bool {
    a.media_type.starts_with("image/") && a.media_type != "image/svg+xml"
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn list_param(call: &MacroCall, name: &str) -> Vec<String> {
    call.param(name)
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn gallery(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let columns = call.int("columns", 4)?.clamp(1, 12);
    let Some(page) = attachment_page(call, ctx)? else {
        return Ok(
            "<p class=\"macro-empty\">The gallery shows the page's images once it is saved.</p>"
                .into(),
        );
    };
    let include = list_param(call, "include");
    let exclude = list_param(call, "exclude");
    let mut images: Vec<Attachment> = content::attachments(page)
        .into_iter()
        .filter(is_image)
        .filter(|a| {
            let n = a.filename.to_lowercase();
            (include.is_empty() || include.contains(&n)) && !exclude.contains(&n)
        })
        .collect();
    match call.param("sort").unwrap_or("name") {
        "comment" => images.sort_by(|a, b| a.comment.cmp(&b.comment)),
        "date" => images.sort_by(|a, b| a.created.cmp(&b.created)),
        "size" => images.sort_by_key(|a| a.size),
        _ => images.sort_by_key(|a| a.filename.to_lowercase()),
    }
    if call.flag("reverse") {
        images.reverse();
    }
    let mut out = String::from("<div class=\"gallery-macro\">");
    if let Some(t) = call.param_nonempty("title") {
        out.push_str("<p class=\"gallery-title\"><strong>");
        escape_into(&mut out, t);
        out.push_str("</strong></p>");
    }
    if images.is_empty() {
        out.push_str("<p class=\"macro-empty\">No images are attached to this page.</p></div>");
        return Ok(out);
    }
    out.push_str(&format!(
        "<div class=\"gallery-grid gallery-cols-{columns}\">"
    ));
    for a in &images {
        let caption = if a.comment.trim().is_empty() {
            &a.filename
        } else {
            &a.comment
        };
        out.push_str("<div class=\"gallery-item\"><a href=\"");
        escape_into(&mut out, &a.url);
        out.push_str("\"><img src=\"");
        escape_into(&mut out, &a.url);
        out.push_str("\" alt=\"");
        escape_into(&mut out, caption);
        out.push_str("\"></a><span class=\"caption\">");
        escape_into(&mut out, caption);
        out.push_str("</span></div>");
    }
    out.push_str("</div></div>");
    Ok(out)
}

fn named_attachment(call: &MacroCall, ctx: &RenderContext) -> Result<Attachment, RenderError> {
    let name = call
        .param_nonempty("name")
        .or_else(|| call.param_nonempty(""))
        .ok_or_else(|| {
            RenderError::InvalidParameter(("name".into(), "name the attached file to show".into()))
        })?;
    let Some(page) = attachment_page(call, ctx)? else {
        return Err(RenderError::NotFound(format!(
            "name: \"{name}\" can be shown once the page is saved with it attached"
        )));
    };
    content::attachments(page)
        .into_iter()
        .find(|a| a.filename.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            RenderError::NotFound(format!(
                "name: there is no attachment \"{name}\" on the page, or you may not view it"
            ))
        })
}

/// What kind of file a card is about, in words.
fn kind_of(a: &Attachment) -> &'static str {
    let n = a.filename.to_lowercase();
    let ext = n.rsplit('.').next().unwrap_or("");
    match (a.media_type.as_str(), ext) {
        ("application/pdf", _) | (_, "pdf") => "PDF document",
        (_, "doc" | "docx" | "odt" | "rtf") => "Word document",
        (_, "xls" | "xlsx" | "ods" | "csv") => "Spreadsheet",
        (_, "ppt" | "pptx" | "odp") => "Presentation",
        (m, _) if m.starts_with("video/") => "Video",
        (_, "mp4" | "m4v" | "mov" | "webm" | "avi" | "mkv" | "wmv" | "mpg" | "mpeg") => "Video",
        (m, _) if m.starts_with("audio/") => "Audio",
        (_, "mp3" | "wav" | "ogg" | "m4a" | "flac" | "aac") => "Audio",
        (m, _) if m.starts_with("text/") => "Text file",
        _ => "File",
    }
}

fn file_card(a: &Attachment, action: &str) -> String {
    let mut out = String::from("<div class=\"file-card\"><a href=\"");
    escape_into(&mut out, &a.url);
    out.push_str("\"><strong>");
    escape_into(&mut out, &a.filename);
    out.push_str("</strong></a> <span class=\"meta\">");
    escape_into(&mut out, kind_of(a));
    out.push_str(" · ");
    out.push_str(&human_size(a.size));
    out.push_str(" · <a href=\"");
    escape_into(&mut out, &a.url);
    out.push_str("\">");
    out.push_str(action);
    out.push_str("</a></span></div>");
    out
}

fn view_file(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let a = named_attachment(call, ctx)?;
    if is_image(&a) {
        let mut out = String::from("<span class=\"view-file-image\"><a href=\"");
        escape_into(&mut out, &a.url);
        out.push_str("\"><img src=\"");
        escape_into(&mut out, &a.url);
        out.push_str("\" alt=\"");
        escape_into(&mut out, &a.filename);
        out.push_str("\"></a></span>");
        return Ok(out);
    }
    Ok(file_card(&a, "Open"))
}

fn multimedia(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let a = named_attachment(call, ctx)?;
    Ok(file_card(&a, "Play"))
}

// ---------------------------------------------------------------------------------------
// widget

/// The provider of a widget URL, by its host.
fn provider(host: &str) -> &'static str {
    let h = host.trim_start_matches("www.").trim_start_matches("m.");
    match h {
        "youtube.com" | "youtu.be" | "youtube-nocookie.com" => "YouTube video",
        "vimeo.com" | "player.vimeo.com" => "Vimeo video",
        "twitter.com" | "x.com" => "Post on X",
        "slideshare.net" => "SlideShare presentation",
        "flickr.com" => "Flickr photo",
        "soundcloud.com" => "SoundCloud track",
        "github.com" | "gist.github.com" => "GitHub",
        h if h.starts_with("maps.google.") => "Google Maps",
        h if h.starts_with("docs.google.") => "Google document",
        _ => "Web page",
    }
}

fn widget(call: &MacroCall) -> Result<String, RenderError> {
    let url = call
        .param_nonempty("url")
        .or_else(|| call.param_nonempty(""))
        .map(str::trim)
        .ok_or_else(|| {
            RenderError::InvalidParameter(("url".into(), "give the address to show".into()))
        })?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            RenderError::InvalidParameter((
                "url".into(),
                format!("{url:?} is not an http(s) address"),
            ))
        })?;
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_lowercase();
    let what = if rest.starts_with("maps.google.") || rest.contains("google.com/maps") {
        "Google Maps"
    } else {
        provider(&host)
    };
    let mut out = String::from("<div class=\"widget-card\"><span class=\"meta\">");
    escape_into(&mut out, what);
    out.push_str("</span> <a href=\"");
    escape_into(&mut out, url);
    out.push_str("\">");
    let shown: String = url.chars().take(120).collect();
    escape_into(&mut out, &shown);
    if shown.len() < url.len() {
        out.push('…');
    }
    out.push_str("</a></div>");
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// livesearch

fn livesearch(call: &MacroCall) -> String {
    let mut query = String::new();
    let mut add = |k: &str, v: &str| {
        query.push(if query.is_empty() { '?' } else { '&' });
        query.push_str(k);
        query.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                query.push(b as char);
            } else {
                query.push_str(&format!("%{b:02X}"));
            }
        }
    };
    let space = call.param_nonempty("spaceKey").map(str::trim);
    if let Some(s) = space {
        add("space", s);
    }
    if let Some(t) = call.param_nonempty("type").map(str::trim) {
        add("type", t);
    }
    if let Some(l) = call.param_nonempty("labels").map(str::trim) {
        add("label", l);
    }
    let placeholder = call
        .param_nonempty("placeholder")
        .map(str::to_owned)
        .unwrap_or_else(|| match space {
            Some(s) => format!("Search {s}"),
            None => "Search".into(),
        });
    let mut out =
        String::from("<span class=\"livesearch-macro\"><a class=\"button\" href=\"/search");
    escape_into(&mut out, &query);
    out.push_str("\">");
    escape_into(&mut out, &placeholder);
    out.push_str("…</a></span>");
    out
}

// ---------------------------------------------------------------------------------------
// blog-posts

/// Days in a `time` parameter: 7d, 2w, 3m, 1y (a bare number is days).
fn days(v: &str) -> Option<i64> {
    let v = v.trim().to_lowercase();
    let (n, mult) = match v.chars().last()? {
        'd' => (&v[..v.len() - 1], 1),
        'w' => (&v[..v.len() - 1], 7),
        'm' => (&v[..v.len() - 1], 30),
        'y' => (&v[..v.len() - 1], 365),
        _ => (v.as_str(), 1),
    };
    n.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(|n| n * mult)
}

/// Days since the civil date `y-m-d` (for comparing RFC 3339 dates).
fn day_number(rfc3339: &str) -> Option<i64> {
    let y: i64 = rfc3339.get(0..4)?.parse().ok()?;
    let m: i64 = rfc3339.get(5..7)?.parse().ok()?;
    let d: i64 = rfc3339.get(8..10)?.parse().ok()?;
    let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    Some(365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d)
}

fn blog_posts(call: &MacroCall, ctx: &RenderContext) -> Result<String, RenderError> {
    let max = call.int("max", 15)?.clamp(1, 100) as usize;
    let spaces: Vec<String> = match call.param_nonempty("spaces").map(str::trim) {
        None | Some("@self") => vec![ctx.space_key.clone()],
        Some("@all") | Some("*") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s == "@self" {
                    ctx.space_key.clone()
                } else {
                    s.to_owned()
                }
            })
            .collect(),
    };
    let labels = list_param(call, "labels");
    let mut posts: Vec<ContentSummary> = if labels.is_empty() {
        content::recently_updated(&spaces, &["blogpost".to_string()], 200)
    } else {
        let mut all = Vec::new();
        for l in &labels {
            for p in content::with_labels(std::slice::from_ref(l), &spaces, 200) {
                if p.type_ == "blogpost" && !all.iter().any(|q: &ContentSummary| q.id == p.id) {
                    all.push(p);
                }
            }
        }
        all
    };
    if let Some(d) = call.param_nonempty("time").and_then(days) {
        // The newest post's day stands for "today": the plugin has no clock of its own,
        // and a cached rendering must not depend on one.
        if let Some(today) = posts.iter().filter_map(|p| day_number(&p.created)).max() {
            posts.retain(|p| day_number(&p.created).is_some_and(|c| today - c < d));
        }
    }
    match call.param("sort").unwrap_or("creation") {
        "title" => posts.sort_by_key(|p| p.title.to_lowercase()),
        "modified" => posts.sort_by(|a, b| b.last_modified.cmp(&a.last_modified)),
        _ => posts.sort_by(|a, b| b.created.cmp(&a.created)),
    }
    if call.flag("reverse") {
        posts.reverse();
    }
    posts.truncate(max);
    if posts.is_empty() {
        return Ok("<p class=\"macro-empty\">No blog posts found.</p>".into());
    }
    let content_kind = call
        .param("content")
        .unwrap_or("entire")
        .to_ascii_lowercase();
    let mut out = String::from("<div class=\"blog-posts-macro\">");
    for p in &posts {
        if content_kind == "titles" {
            out.push_str("<p class=\"blog-post-title\"><a href=\"");
            escape_into(&mut out, &p.url);
            out.push_str("\">");
            escape_into(&mut out, &p.title);
            out.push_str("</a></p>");
            continue;
        }
        out.push_str("<article class=\"blog-post\"><h3><a href=\"");
        escape_into(&mut out, &p.url);
        out.push_str("\">");
        escape_into(&mut out, &p.title);
        out.push_str("</a></h3><p class=\"meta\">");
        if let Some(a) = &p.author {
            escape_into(&mut out, &a.display_name);
            out.push_str(", ");
        }
        escape_into(&mut out, p.created.get(0..10).unwrap_or(&p.created));
        out.push_str("</p>");
        let body = if content_kind == "excerpts" {
            content::render_excerpt(p.id, "")
                .ok()
                .filter(|e| !e.trim().is_empty())
        } else {
            content::render_page(p.id).ok()
        };
        match body {
            Some(html) => out.push_str(&html),
            None if content_kind == "excerpts" => {}
            None => out.push_str("<p class=\"macro-empty\">This post cannot be shown here.</p>"),
        }
        out.push_str("</article>");
    }
    out.push_str("</div>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_what_describe_gives() {
        check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
    }

    #[test]
    fn widths_are_checked_before_they_reach_a_style() {
        assert_eq!(css_width("50%").as_deref(), Some("50%"));
        assert_eq!(css_width("200px").as_deref(), Some("200px"));
        assert_eq!(css_width("180").as_deref(), Some("180px"));
        assert_eq!(css_width("50%; position: fixed"), None);
        assert_eq!(css_width("expression(alert(1))"), None);
        assert_eq!(css_width("0"), None);
    }

    #[test]
    fn columns_and_sections_wrap_their_bodies() {
        let col = MacroCall::new(
            "column",
            &[("width", "30%")],
            BodyKind::RichText,
            "<p>a</p>",
        );
        assert_eq!(
            column(&col),
            "<div class=\"column-macro\" style=\"width: 30%\"><p>a</p></div>"
        );
        let sec = MacroCall::new("section", &[("border", "true")], BodyKind::RichText, "x");
        assert_eq!(
            section(&sec),
            "<div class=\"section-macro bordered\">x</div>"
        );
    }

    #[test]
    fn widgets_are_link_cards_naming_their_provider() {
        let w = MacroCall::new(
            "widget",
            &[("url", "https://www.youtube.com/watch?v=zy5&x=<b>")],
            BodyKind::None,
            "",
        );
        let html = widget(&w).unwrap();
        assert_eq!(
            html,
            "<div class=\"widget-card\"><span class=\"meta\">YouTube video</span> <a href=\"https://www.youtube.com/watch?v=zy5&amp;x=&lt;b&gt;\">https://www.youtube.com/watch?v=zy5&amp;x=&lt;b&gt;</a></div>"
        );
        let maps = MacroCall::new(
            "widget",
            &[("url", "https://maps.google.com/maps?q=x")],
            BodyKind::None,
            "",
        );
        assert!(widget(&maps).unwrap().contains("Google Maps"));
        let js = MacroCall::new(
            "widget",
            &[("url", "javascript:alert(1)")],
            BodyKind::None,
            "",
        );
        assert!(widget(&js).is_err());
    }

    #[test]
    fn livesearch_links_to_the_search_of_its_space() {
        let l = MacroCall::new(
            "livesearch",
            &[("spaceKey", "linux"), ("id", "1")],
            BodyKind::None,
            "",
        );
        assert_eq!(
            livesearch(&l),
            "<span class=\"livesearch-macro\"><a class=\"button\" href=\"/search?space=linux\">Search linux…</a></span>"
        );
    }

    #[test]
    fn times_and_dates() {
        assert_eq!(days("7d"), Some(7));
        assert_eq!(days("2w"), Some(14));
        assert_eq!(days("3"), Some(3));
        assert_eq!(days("soon"), None);
        assert_eq!(
            day_number("2024-03-01T00:00:00Z").unwrap()
                - day_number("2024-02-28T10:00:00Z").unwrap(),
            2
        );
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(2048), "2.0 kB");
    }
}
