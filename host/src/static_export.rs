//! Static exports: a space or a page tree as a zip of HTML pages with their
//! attachments and working relative links, and a page or page tree as PDF
//! (headless Chromium prints the same HTML).
//!
//! Invariants: pages are read and rendered **as the viewer** through the
//! same renderer and plugins as a page view, with the output target
//! `export` — a page the viewer may not see is not exported and no link
//! names it; every link into the export is relative (pages `ID.html`,
//! files `attachments/ID/NAME`, emoticons `emoticons/NAME`), every other
//! link into the wiki is made absolute with the base URL, so nothing points
//! at a path the zip does not hold.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::content::{self, xml_escape as esc, Content, Space};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::AppState;

/// The most pages one export holds.
pub const MAX_PAGES: usize = 5000;

/// What to export.
#[derive(Debug, Clone)]
pub enum Root {
    Space(String),
    /// A page and the pages under it.
    Tree(i64),
    /// One page.
    Page(i64),
}

/// One exported page: its depth in the tree and its rendered HTML.
struct Exported {
    page: Content,
    depth: usize,
    html: String,
    files: Vec<crate::attach::Attachment>,
}

/// The pages of `root` the viewer may see, in tree order with their depth.
async fn pages_of(
    db: &deadpool_postgres::Object,
    viewer: &Viewer,
    root: &Root,
) -> Result<(Space, Vec<(Content, usize)>)> {
    let visible = |ids: Vec<i64>| async move { content::get_many(db, viewer, &ids).await };
    let (space, roots) = match root {
        Root::Space(key) => {
            let s = content::space(db, viewer, key).await?;
            let top = content::children(db, viewer, s.id, None, 0, MAX_PAGES as i64).await?;
            let pages = visible(top.iter().map(|k| k.id).collect()).await?;
            (s, pages)
        }
        Root::Tree(id) | Root::Page(id) => {
            let c = content::get(db, viewer, *id).await?;
            if c.content_type != content::ContentType::Page
                && c.content_type != content::ContentType::BlogPost
            {
                return Err(Error::BadRequest(
                    "only pages and blog posts are exported".into(),
                ));
            }
            (content::space_of(db, &c).await?, vec![c])
        }
    };
    let deep = !matches!(root, Root::Page(_));
    // Depth first, each page before the pages under it, children in tree order.
    let mut stack: Vec<(Content, usize)> = roots.into_iter().rev().map(|c| (c, 0)).collect();
    let mut out = Vec::new();
    while let Some((c, depth)) = stack.pop() {
        let id = c.id;
        out.push((c, depth));
        if out.len() > MAX_PAGES {
            return Err(Error::BadRequest(format!(
                "an export holds at most {MAX_PAGES} pages; export a page tree instead"
            )));
        }
        if deep {
            let kids =
                content::children(db, viewer, space.id, Some(id), 0, MAX_PAGES as i64).await?;
            let pages = visible(kids.iter().map(|k| k.id).collect()).await?;
            stack.extend(pages.into_iter().rev().map(|c| (c, depth + 1)));
        }
    }
    Ok((space, out))
}

/// Renders every page of `root` the viewer may see.
async fn render_all(
    app: &AppState,
    viewer: &Viewer,
    root: &Root,
) -> Result<(Space, Vec<Exported>)> {
    let db = app.pool.get().await?;
    let (space, pages) = pages_of(&db, viewer, root).await?;
    let mut out = Vec::with_capacity(pages.len());
    for (page, depth) in pages {
        let files = crate::attach::list_of(&db, viewer, &page).await?;
        let html = app
            .presenter
            .render_for_export(&app.pool, viewer, &page)
            .await?;
        out.push(Exported {
            page,
            depth,
            html,
            files,
        });
    }
    Ok((space, out))
}

/// The value of every `href="…"` and `src="…"` in `html`, rewritten by `f`.
fn rewrite_urls(html: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let next = ["href=\"", "src=\""]
            .iter()
            .filter_map(|a| rest.find(a).map(|i| (i, a.len())))
            .min();
        let Some((i, n)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + n]);
        rest = &rest[i + n..];
        let end = rest.find('"').unwrap_or(rest.len());
        let value = &rest[..end];
        match f(value) {
            Some(v) => out.push_str(&v),
            None => out.push_str(value),
        }
        rest = &rest[end..];
    }
}

/// Where a wiki URL points inside the export, if it does.
fn local_target(
    url: &str,
    pages: &HashSet<i64>,
    files: &HashSet<(i64, String)>,
    emoticons: &mut BTreeSet<String>,
    base: &str,
) -> Option<String> {
    let url = url.replace("&amp;", "&");
    if !url.starts_with('/') || url.starts_with("//") {
        return None;
    }
    let (path, anchor) = match url.split_once('#') {
        Some((p, a)) => (p.to_owned(), format!("#{a}")),
        None => (url.clone(), String::new()),
    };
    let path_only = path.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path_only.split('/').collect();
    // /spaces/KEY/pages/ID/Slug
    if segs.len() >= 5 && segs[1] == "spaces" && segs[3] == "pages" {
        if let Ok(id) = segs[4].parse::<i64>() {
            if pages.contains(&id) {
                return Some(format!("{id}.html{anchor}"));
            }
        }
    }
    if path_only == "/pages/viewpage.action" {
        if let Some(id) = path
            .split_once("pageId=")
            .and_then(|(_, v)| v.split('&').next())
            .and_then(|v| v.parse::<i64>().ok())
        {
            if pages.contains(&id) {
                return Some(format!("{id}.html{anchor}"));
            }
        }
    }
    // /download/attachments/ID/NAME
    if segs.len() == 5 && segs[1] == "download" && segs[2] == "attachments" {
        if let Ok(id) = segs[3].parse::<i64>() {
            let name = percent_encoding::percent_decode_str(segs[4])
                .decode_utf8_lossy()
                .into_owned();
            if files.contains(&(id, name)) {
                return Some(format!("attachments/{id}/{}", segs[4]));
            }
        }
    }
    // /assets/emoticons/NAME.svg
    if let Some(name) = path_only.strip_prefix("/assets/emoticons/") {
        if crate::web::emoticon_svg(name).is_some() {
            emoticons.insert(name.to_owned());
            return Some(format!("emoticons/{name}"));
        }
    }
    Some(esc(&format!("{base}{url}")))
}

/// Everything an HTML export writes: (path in the zip, bytes) for pages, and
/// (path, stored file) for attachments.
struct Files {
    text: Vec<(String, Vec<u8>)>,
    stored: Vec<(String, PathBuf)>,
}

fn layout(title: &str, css: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"{css}\"></head><body><main class=\"export\">{body}</main></body></html>\n",
        esc(title)
    )
}

/// Lays the rendered pages out as static files.
fn build(app: &AppState, space: &Space, pages: &[Exported], one_file: bool) -> Files {
    let base = app.base_url.trim_end_matches('/').to_owned();
    let ids: HashSet<i64> = pages.iter().map(|p| p.page.id).collect();
    let files: HashSet<(i64, String)> = pages
        .iter()
        .flat_map(|p| p.files.iter().map(|a| (p.page.id, a.content.title.clone())))
        .collect();
    let mut emoticons = BTreeSet::new();
    let when = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let mut text = Vec::new();
    let mut stored = Vec::new();
    let mut combined = String::new();
    for p in pages {
        let c = &p.page;
        let body = rewrite_urls(&p.html, |u| {
            local_target(u, &ids, &files, &mut emoticons, &base)
        });
        let mut html = String::new();
        if !one_file {
            html.push_str(&format!(
                "<nav class=\"breadcrumbs\"><a href=\"index.html\">{}</a></nav>",
                esc(&space.name)
            ));
        }
        html.push_str(&format!(
            "<article id=\"page-{}\"><h1>{}</h1><div class=\"wiki-content\">{body}</div>",
            c.id,
            esc(&c.title)
        ));
        if !p.files.is_empty() {
            html.push_str("<h2>Attachments</h2><ul class=\"attachments\">");
            for a in &p.files {
                html.push_str(&format!(
                    "<li><a href=\"attachments/{}/{}\">{}</a> <span class=\"meta\">{}</span></li>",
                    c.id,
                    crate::urls::enc(&a.content.title),
                    esc(&a.content.title),
                    crate::urls::human_size(a.size)
                ));
                stored.push((
                    format!("attachments/{}/{}", c.id, a.content.title),
                    app.files.path_of(&a.sha256),
                ));
            }
            html.push_str("</ul>");
        }
        html.push_str(&format!(
            "<footer class=\"meta\">Version {} by {}, exported {when}. <a href=\"{}\">The page in the wiki</a></footer></article>",
            c.version,
            esc(&c.modifier.display_name),
            esc(&format!(
                "{base}{}",
                crate::urls::page_url(&c.space_key, c.id, &c.title)
            ))
        ));
        if one_file {
            combined.push_str(&format!("<section class=\"export-page\">{html}</section>"));
        } else {
            text.push((
                format!("{}.html", c.id),
                layout(&format!("{} - {}", c.title, space.name), "style.css", &html).into_bytes(),
            ));
        }
    }
    if one_file {
        text.push((
            "export.html".into(),
            layout(&space.name, "style.css", &combined).into_bytes(),
        ));
    } else {
        let mut index = format!(
            "<h1>{}</h1><p>{}</p><p class=\"meta\">Exported {when} from {}.</p><nav class=\"export-tree\">",
            esc(&space.name),
            esc(&space.description),
            esc(&base)
        );
        let mut depth = 0;
        index.push_str("<ul>");
        for (i, p) in pages.iter().enumerate() {
            let d = p.depth;
            if i > 0 {
                if d > depth {
                    index.push_str("<ul>");
                } else {
                    index.push_str("</li>");
                    for _ in d..depth {
                        index.push_str("</ul></li>");
                    }
                }
            }
            depth = d;
            index.push_str(&format!(
                "<li><a href=\"{}.html\">{}</a>",
                p.page.id,
                esc(&p.page.title)
            ));
        }
        if !pages.is_empty() {
            index.push_str("</li>");
            for _ in 0..depth {
                index.push_str("</ul></li>");
            }
        }
        index.push_str("</ul></nav>");
        text.push((
            "index.html".into(),
            layout(&space.name, "style.css", &index).into_bytes(),
        ));
    }
    let css = format!(
        "{}\n.export {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}\n.export-page {{ break-before: page; }}\n.export-page:first-child {{ break-before: auto; }}\n",
        include_str!("../assets/app.css")
    );
    text.push(("style.css".into(), css.into_bytes()));
    for name in emoticons {
        if let Some(svg) = crate::web::emoticon_svg(&name) {
            text.push((format!("emoticons/{name}"), svg.as_bytes().to_vec()));
        }
    }
    Files { text, stored }
}

/// Writes `root` as a zip of static HTML to `out`; how many pages.
pub async fn html_zip(app: &AppState, viewer: &Viewer, root: Root, out: &Path) -> Result<usize> {
    let (space, pages) = render_all(app, viewer, &root).await?;
    let files = build(app, &space, &pages, false);
    let out = out.to_owned();
    tokio::task::spawn_blocking(move || write_zip(&files, &out))
        .await
        .map_err(Error::internal)??;
    Ok(pages.len())
}

fn write_zip(files: &Files, out: &Path) -> Result<()> {
    let io = |e: std::io::Error| Error::Internal(format!("writing the export: {e}"));
    let zerr = |e: zip::result::ZipError| Error::Internal(format!("writing the export: {e}"));
    let f = std::fs::File::create(out).map_err(io)?;
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in &files.text {
        z.start_file(name.as_str(), opts).map_err(zerr)?;
        z.write_all(bytes).map_err(io)?;
    }
    for (name, path) in &files.stored {
        z.start_file(name.as_str(), opts).map_err(zerr)?;
        let mut f = std::fs::File::open(path).map_err(io)?;
        std::io::copy(&mut f, &mut z).map_err(io)?;
    }
    z.finish().map_err(zerr)?.flush().map_err(io)?;
    Ok(())
}

/// The Chromium binary PDF exports print with (`CAIRN_CHROMIUM`, else the
/// first of the usual names on `PATH`).
fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CAIRN_CHROMIUM") {
        if !p.trim().is_empty() {
            return Some(PathBuf::from(p));
        }
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A page (`Root::Page`) or page tree (`Root::Tree`) as PDF, printed by
/// headless Chromium from the same static HTML (one file, a page break
/// before each page).
pub async fn pdf(app: &AppState, viewer: &Viewer, root: Root) -> Result<Vec<u8>> {
    let Some(bin) = chromium() else {
        return Err(Error::Unavailable(
            "PDF export needs Chromium on this node (apt-get install chromium, or set CAIRN_CHROMIUM)"
                .into(),
        ));
    };
    let (space, pages) = render_all(app, viewer, &root).await?;
    let files = build(app, &space, &pages, true);
    let dir = std::env::temp_dir().join(format!(
        "cairn-pdf-{}-{}",
        std::process::id(),
        crate::auth::random_token(8)
    ));
    let written = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            for (name, bytes) in &files.text {
                let p = dir.join(name);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(p, bytes)?;
            }
            for (name, src) in &files.stored {
                let p = dir.join(name);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(src, p)?;
            }
            Ok(())
        })
        .await
        .map_err(Error::internal)?
    };
    let result = async {
        written.map_err(|e| Error::Internal(format!("preparing the PDF: {e}")))?;
        let out = dir.join("export.pdf");
        let profile = dir.join("profile");
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.arg("--headless")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-background-networking")
            .arg("--no-pdf-header-footer")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(format!("file://{}", dir.join("export.html").display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let status = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.status())
            .await
            .map_err(|_| Error::Unavailable("Chromium took more than 2 minutes to print".into()))?
            .map_err(|e| Error::Unavailable(format!("cannot start {}: {e}", bin.display())))?;
        let pdf = tokio::fs::read(&out).await.map_err(|_| {
            Error::Internal(format!("Chromium printed nothing (exit status {status})"))
        })?;
        Ok(pdf)
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_into_the_export_become_relative_and_the_rest_absolute() {
        let pages: HashSet<i64> = [7].into_iter().collect();
        let files: HashSet<(i64, String)> = [(7, "a b.png".to_owned())].into_iter().collect();
        let mut emo = BTreeSet::new();
        let html = r#"<a href="/spaces/DEV/pages/7/Plan#goals">x</a><a href="/spaces/DEV/pages/8/Secret">y</a><img src="/download/attachments/7/a%20b.png"><img src="/download/attachments/7/gone.png"><img src="/assets/emoticons/smile.svg"><a href="https://example.com/">z</a><a href="/pages/viewpage.action?pageId=7&amp;x=1">v</a>"#;
        let out = rewrite_urls(html, |u| {
            local_target(u, &pages, &files, &mut emo, "http://w")
        });
        assert_eq!(
            out,
            r#"<a href="7.html#goals">x</a><a href="http://w/spaces/DEV/pages/8/Secret">y</a><img src="attachments/7/a%20b.png"><img src="http://w/download/attachments/7/gone.png"><img src="emoticons/smile.svg"><a href="https://example.com/">z</a><a href="7.html">v</a>"#
        );
        assert_eq!(emo.into_iter().collect::<Vec<_>>(), ["smile.svg"]);
    }
}
