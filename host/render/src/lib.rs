//! Confluence storage format for Cairn: well-formedness checking, extraction of
//! references, rendering to sanitized HTML, plain text for indexing, Markdown import and
//! version diffs.
//!
//! Architecture invariant: this crate is pure and synchronous. It never touches the
//! database or the network; everything a body points at is listed by [`references`] so
//! the host can resolve it up front and answer through [`Context`] during [`render`].
//! It never modifies the stored input: unknown macros are shown as a placeholder box on
//! view while their markup stays as written.
//!
//! Every HTML string this crate returns from [`render`] and [`sanitize`] has been through
//! one allow-list sanitizer (see [`sanitize`]), whatever the input or the host's answers.

use std::collections::{BTreeMap, BTreeSet};

mod blockdiff;
mod diff;
mod html;
mod markdown;
mod references;
mod render;
mod sanitize;
mod tasks;
mod text;
mod tree;

/// Where in the input a syntax error is (1-based line and column; columns count
/// characters, not bytes).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based line of the offending construct.
    pub line: usize,
    /// 1-based column (in characters) of the offending construct.
    pub column: usize,
    /// What is wrong, in lower case.
    pub message: String,
}

/// Checks that a storage-format body is well-formed.
///
/// Bodies do not declare the `ac:`/`ri:` namespaces and may use any HTML named entity
/// (`&nbsp;`, `&mdash;`, …); both are accepted. Refused: unclosed or mismatched tags,
/// unknown entities, a bare `&`, malformed or duplicate attributes, a stray `<`, invalid
/// tag names and a DOCTYPE.
///
/// # Errors
///
/// The first [`SyntaxError`] found. For an unclosed element the position is that of its
/// start tag; for a mismatched end tag, that of the end tag.
pub fn check(storage: &str) -> Result<(), SyntaxError> {
    tree::parse(storage).map(|_| ())
}

/// A reference to a page as written in storage format (`ri:page` / `ri:blog-post`).
///
/// `space_key` is `None` when the body did not name a space: the reference is then to the
/// space of the page being rendered ([`Context::current_space`]). References are passed
/// to the [`Context`] exactly as [`references`] lists them, so a host can key its
/// pre-resolved answers on them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageRef {
    /// `ri:space-key`, if written.
    pub space_key: Option<String>,
    /// `ri:content-title`.
    pub title: String,
    /// Blog posts only: `ri:posting-day`, as written (`"YYYY/MM/DD"`).
    pub posting_day: Option<String>,
}

/// A reference to an attachment (`ri:attachment`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentRef {
    /// The page or blog post holding the attachment; `None` means the page being rendered.
    pub container: Option<PageRef>,
    /// `ri:filename`.
    pub filename: String,
}

/// The body of a macro call.
#[derive(Debug, Clone, PartialEq)]
pub enum MacroBody {
    /// No body.
    None,
    /// `ac:plain-text-body`: the CDATA text, with split `]]>` sections joined again.
    Plain(String),
    /// `ac:rich-text-body`. In [`Context::render_macro`] this is the body already rendered
    /// to HTML by this crate (not yet sanitized: the whole page is sanitized at the end).
    /// In [`References::macros`] it is the raw storage text of the body.
    Rich(String),
}

/// A structured macro (`ac:structured-macro`) or legacy macro (`ac:macro`) call.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroCall {
    /// `ac:name`, as written.
    pub name: String,
    /// Parameter values as text; the unnamed/default parameter (and a legacy
    /// `ac:default-parameter`) has key `""`. A value that is an `ac:link` to a page is
    /// given as the page's title, and the full reference is in `param_pages`; a link to a
    /// user gives the user key, to a space the space key, to an attachment the filename.
    pub params: BTreeMap<String, String>,
    /// Parameters whose value is a link to a page or blog post.
    pub param_pages: BTreeMap<String, PageRef>,
    /// The macro's body.
    pub body: MacroBody,
    /// Whether the call sits in running text (inside a paragraph, heading, span, link body
    /// …) or asks for inline output (`atlassian-macro-output-type` = `INLINE`).
    pub inline: bool,
}

/// Everything a document points at, so the host can resolve it (async, from the
/// database) before the synchronous [`render`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct References {
    /// Pages and blog posts linked to, embedded or given as macro parameters, and the
    /// containers of attachments.
    pub pages: BTreeSet<PageRef>,
    /// Attachments linked to or shown as images.
    pub attachments: BTreeSet<AttachmentRef>,
    /// `ri:userkey` values (and `ri:username` / `ri:account-id` where no key is written).
    pub users: BTreeSet<String>,
    /// `ri:content-id` values of `ri:content-entity`.
    pub content_ids: BTreeSet<i64>,
    /// Space keys of `ri:space` links.
    pub spaces: BTreeSet<String>,
    /// Every macro call in document order, including macros nested in other macros'
    /// bodies. Rich bodies are given as raw storage text ([`MacroBody::Rich`]).
    pub macros: Vec<MacroCall>,
}

/// Lists everything `storage` points at.
///
/// # Errors
///
/// A [`SyntaxError`] if the body is ill-formed (as [`check`]).
pub fn references(storage: &str) -> Result<References, SyntaxError> {
    let nodes = tree::parse(storage)?;
    Ok(references::collect(storage, &nodes))
}

/// The resolved target of a reference: where it is and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// URL to link to (made safe by the sanitizer whatever it holds).
    pub url: String,
    /// Title or display name (escaped by the renderer).
    pub title: String,
}

/// What the host answers during rendering. Sync: the host has pre-resolved everything
/// from [`references`].
///
/// A `None` answer means "missing or not visible to this viewer" and renders as a broken
/// link or image: a visible element with `class="broken-link"` showing the text as
/// written in the body, never a guessed title.
pub trait Context {
    /// Space key of the page being rendered.
    fn current_space(&self) -> &str;
    /// A page or blog post (`space_key: None` = [`Context::current_space`]).
    fn page(&self, r: &PageRef) -> Option<Link>;
    /// An attachment; the URL is the one to download (or show) it.
    fn attachment(&self, r: &AttachmentRef) -> Option<Link>;
    /// A user by key (or username); the title is the display name.
    fn user(&self, key: &str) -> Option<Link>;
    /// Content by id (`ri:content-entity`).
    fn content(&self, id: i64) -> Option<Link>;
    /// A space by key.
    fn space(&self, key: &str) -> Option<Link>;
    /// A macro call, rendered by the host (in Cairn: by the plugin that provides it; the
    /// crate has no macros of its own). `None` shows the "macro not available" box. The
    /// returned HTML is sanitized by the crate.
    fn render_macro(&self, call: &MacroCall) -> Option<String>;
    /// The URL of an image for the emoticon `name` (`ac:emoticon`), if the host
    /// has one; without it the emoticon is its Unicode character.
    fn emoticon_image(&self, _name: &str) -> Option<String> {
        None
    }
    /// Today's date (`YYYY-MM-DD`) where the host shows the page, so a past due
    /// date of an open task is marked overdue; `None` marks nothing.
    fn today(&self) -> Option<String> {
        None
    }
}

pub use tasks::TaskItem;

/// The tasks (`ac:task`) of a body in document order, nested ones after their
/// parent, with their assignee and due date.
///
/// # Errors
///
/// Only on ill-formed input, as [`check`].
pub fn tasks(storage: &str) -> Result<Vec<TaskItem>, SyntaxError> {
    let nodes = tree::parse(storage)?;
    let mut out = Vec::new();
    tasks::collect(&nodes, &mut out);
    Ok(out)
}

/// A heading of a rendered page, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Text content, whitespace normalized.
    pub text: String,
    /// The `id` given to the heading element (unique in the page, no prefix).
    pub anchor: String,
}

/// The result of [`render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML.
    pub html: String,
    /// Headings with their anchors, in document order.
    pub headings: Vec<Heading>,
}

/// Renders storage format to sanitized HTML.
///
/// # Errors
///
/// Only on ill-formed input, as [`check`]. Missing targets and unknown macros are not
/// errors: they render as visible broken links and "macro not available" boxes.
pub fn render(storage: &str, ctx: &dyn Context) -> Result<Rendered, SyntaxError> {
    let nodes = tree::parse(storage)?;
    let (html, headings, macros) = render::render(&nodes, ctx);
    // Macro output was sanitized on its own; it joins the page after the page's pass.
    Ok(Rendered {
        html: macros.substitute(&sanitize::clean(&html)),
        headings,
    })
}

/// Sanitizes arbitrary HTML with the crate's allow-list (for comments and other HTML the
/// host shows).
///
/// Kept: the plain HTML subset of storage format plus the elements this crate emits
/// (`div`, `span`, `details`, `img`, disabled checkboxes …), `class`/`id`/`title`, a
/// `style` limited to colour, background colour, text alignment, text decoration,
/// indentation and borders (no `url()`, `expression()`, escapes or comments), and URLs
/// with the schemes http, https, mailto or relative ones. Everything else is removed;
/// the content of `script`/`style` elements is dropped entirely.
pub fn sanitize(html: &str) -> String {
    sanitize::clean(html)
}

pub use blockdiff::{block_changes, storage_blocks, word_diff_html, BlockChange};
pub use sanitize::nests_deeper_than;

/// Plain text for search indexing.
///
/// The text content of the body plus plain-text macro bodies (e.g. code), without
/// markup or macro parameters; whitespace is normalized within lines and block elements
/// are separated by newlines so words do not run together.
///
/// # Errors
///
/// A [`SyntaxError`] if the body is ill-formed.
pub fn text(storage: &str) -> Result<String, SyntaxError> {
    let nodes = tree::parse(storage)?;
    Ok(text::extract(&nodes))
}

/// Converts Markdown (CommonMark with tables, strikethrough and task lists) to storage
/// format.
///
/// Fenced code blocks become the `code` structured macro with a `language` parameter and
/// a CDATA body (`]]>` split as `]]]]><![CDATA[>`); task lists become `ac:task-list`;
/// images become `ac:image` (`ri:url` for absolute URLs, `ri:attachment` otherwise). Raw
/// HTML is escaped as text, never passed through. The output always passes [`check`].
pub fn markdown_to_storage(md: &str) -> String {
    markdown::to_storage(md)
}

/// [`markdown_to_storage`] where `@username` becomes a mention of the user
/// whose key `mention` answers (it answers `None` for names that are not
/// users, which stay text).
pub fn markdown_to_storage_with_mentions(
    md: &str,
    mention: &dyn Fn(&str) -> Option<String>,
) -> String {
    markdown::to_storage_with(md, mention)
}

/// An inline diff of two texts (e.g. the storage sources of two versions) as escaped
/// HTML: one `div` per line, removed lines with `class="diff-line diff-del"` and added
/// ones with `diff-ins`; changed words are wrapped in `<del>`/`<ins>` (whole lines when
/// nothing on them matched).
pub fn diff_inline_html(old: &str, new: &str) -> String {
    diff::inline_html(old, new)
}

/// The same diff as [`diff_inline_html`] as a two-column `<table class="diff">`: old
/// text on the left, new on the right, changed lines paired up.
pub fn diff_side_by_side_html(old: &str, new: &str) -> String {
    diff::side_by_side_html(old, new)
}
