//! Well-formedness checking and parsing of storage format into a small tree.
//!
//! Architecture invariant: this is the only module that looks at raw markup; everything
//! else walks the [`Node`] tree, so "no regex on markup" holds by construction.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::SyntaxError;

/// One node of a parsed body. CDATA sections are folded into text: storage format splits
/// `]]>` across two sections, and joining adjacent text restores it.
#[derive(Debug)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug)]
pub(crate) struct Element {
    /// Qualified name as written (`p`, `ac:link`, `ri:page`); bodies never declare their
    /// namespaces, so the prefix itself is the binding.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Byte range of the content between the start and end tag in the source, so a macro's
    /// rich body can be handed out as the storage text it was written as.
    pub inner: Range<usize>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.child_elements().find(|e| e.name == name)
    }

    pub fn child_elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Concatenated text of all descendants (used for CDATA bodies and parameter values).
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        fn walk(nodes: &[Node], out: &mut String) {
            for n in nodes {
                match n {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => walk(&e.children, out),
                }
            }
        }
        walk(&self.children, &mut out);
        out
    }
}

/// Named HTML entities without `&` and `;`. The `entities` crate also lists the legacy
/// semicolon-less spellings; XML always needs the `;`, so those are left out.
static ENTITY_TABLE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    entities::ENTITIES
        .iter()
        .filter_map(|e| {
            let name = e.entity.strip_prefix('&')?.strip_suffix(';')?;
            Some((name, e.characters))
        })
        .collect()
});

fn resolve_entity(name: &str) -> Option<&'static str> {
    ENTITY_TABLE.get(name).copied()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn error_at(src: &str, offset: usize, message: impl Into<String>) -> SyntaxError {
    let (line, column) = line_column(src, offset);
    SyntaxError {
        line,
        column,
        message: message.into(),
    }
}

fn escape_error_message(e: &EscapeError) -> String {
    match e {
        EscapeError::UnrecognizedEntity(_, name) => format!("unknown entity &{name};"),
        EscapeError::UnterminatedEntity(_) => "`&` not followed by an entity reference".into(),
        EscapeError::InvalidCharRef(e) => format!("invalid character reference: {e}"),
    }
}

fn escape_error_offset(e: &EscapeError) -> usize {
    match e {
        // The range points at the name; the `&` before it is what a person looks for.
        EscapeError::UnrecognizedEntity(r, _) => r.start.saturating_sub(1),
        EscapeError::UnterminatedEntity(r) => r.start,
        EscapeError::InvalidCharRef(_) => 0,
    }
}

/// XML names as storage format uses them: ASCII letters, digits and `-._:`, plus any
/// non-ASCII character, not starting with a digit or punctuation other than `_`/`:`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':') || !c.is_ascii())
}

fn utf8(bytes: &[u8], src: &str, offset: usize) -> Result<String, SyntaxError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| error_at(src, offset, "invalid UTF-8"))
}

fn start_element(
    src: &str,
    start: &BytesStart<'_>,
    offset: usize,
    inner_start: usize,
) -> Result<Element, SyntaxError> {
    let name = utf8(start.name().as_ref(), src, offset)?;
    if !valid_name(&name) {
        let message = if name.is_empty() || name.starts_with(|c: char| c.is_whitespace()) {
            "stray `<` (write `&lt;` for a literal less-than sign)".to_owned()
        } else {
            format!("invalid tag name `{name}`")
        };
        return Err(error_at(src, offset, message));
    }
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| error_at(src, offset, format!("bad attribute: {e}")))?;
        let key = utf8(attr.key.as_ref(), src, offset)?;
        if !valid_name(&key) {
            return Err(error_at(
                src,
                offset,
                format!("invalid attribute name `{key}` in <{name}>"),
            ));
        }
        let value = attr
            .unescape_value_with(resolve_entity)
            .map_err(|e| match e {
                quick_xml::Error::Escape(esc) => error_at(
                    src,
                    offset,
                    format!(
                        "in attribute `{key}` of <{name}>: {}",
                        escape_error_message(&esc)
                    ),
                ),
                other => error_at(src, offset, other.to_string()),
            })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        inner: inner_start..inner_start,
    })
}

fn push_text(children: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(prev)) = children.last_mut() {
        prev.push_str(text);
    } else {
        children.push(Node::Text(text.to_owned()));
    }
}

/// Deeper nesting is refused: rendering, text extraction and dropping the tree recurse,
/// and no real page comes near this, while a hostile one could overflow the stack.
pub(crate) const MAX_DEPTH: usize = 400;

/// Parses a storage-format body. Errors on anything ill-formed, with the position of the
/// offending construct (for an unclosed element: its start tag).
pub(crate) fn parse(src: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut reader = Reader::from_str(src);
    {
        let config = reader.config_mut();
        config.trim_text(false);
        // End tags are matched here, so the error can point at the right place and say
        // what was expected.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
    }
    let mut root: Vec<Node> = Vec::new();
    // Open elements and the offset of their start tags.
    let mut stack: Vec<(Element, usize)> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            error_at(src, at, e.to_string())
        })?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error_at(
                        src,
                        before,
                        format!("elements nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let element = start_element(src, &start, before, after)?;
                stack.push((element, before));
            }
            Event::Empty(start) => {
                let element = start_element(src, &start, before, after)?;
                let children = match stack.last_mut() {
                    Some((parent, _)) => &mut parent.children,
                    None => &mut root,
                };
                children.push(Node::Element(element));
            }
            Event::End(end) => {
                let name = utf8(end.name().as_ref(), src, before)?;
                let Some((mut element, _)) = stack.pop() else {
                    return Err(error_at(
                        src,
                        before,
                        format!("closing tag </{name}> without an opening tag"),
                    ));
                };
                if element.name != name {
                    return Err(error_at(
                        src,
                        before,
                        format!("expected </{}>, found </{name}>", element.name),
                    ));
                }
                element.inner.end = before;
                let children = match stack.last_mut() {
                    Some((parent, _)) => &mut parent.children,
                    None => &mut root,
                };
                children.push(Node::Element(element));
            }
            Event::Text(text) => {
                let raw = std::str::from_utf8(&text)
                    .map_err(|_| error_at(src, before, "invalid UTF-8"))?;
                if raw.contains('<') {
                    return Err(error_at(src, before, "stray `<`"));
                }
                let value = quick_xml::escape::unescape_with(raw, resolve_entity).map_err(|e| {
                    error_at(
                        src,
                        before + escape_error_offset(&e),
                        escape_error_message(&e),
                    )
                })?;
                let children = match stack.last_mut() {
                    Some((parent, _)) => &mut parent.children,
                    None => &mut root,
                };
                push_text(children, &value);
            }
            Event::CData(cdata) => {
                let value = std::str::from_utf8(&cdata)
                    .map_err(|_| error_at(src, before, "invalid UTF-8"))?;
                let children = match stack.last_mut() {
                    Some((parent, _)) => &mut parent.children,
                    None => &mut root,
                };
                push_text(children, value);
            }
            Event::DocType(_) => {
                // A DOCTYPE could declare entities; bodies never carry one.
                return Err(error_at(src, before, "DOCTYPE is not allowed in a body"));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some((element, offset)) = stack.pop() {
        return Err(error_at(
            src,
            offset,
            format!("unclosed tag <{}>", element.name),
        ));
    }
    Ok(root)
}
