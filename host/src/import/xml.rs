//! The streaming reader of `entities.xml`: yields one `<object>` at a time.
//!
//! Invariant: memory is bounded by the largest single object, never by the
//! file; values are returned exactly as written (no trimming), CDATA pieces
//! and escaped text concatenated, so bodies stay byte for byte. A document
//! that is not well-formed XML, or whose root is not `<hibernate-generic>`,
//! is an error naming the byte offset and the last object begun.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::ImportError;

/// A property's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Text(String),
    /// A reference to another object: its class and id (or user key).
    Ref {
        class: String,
        id: String,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Object {
    pub class: String,
    pub package: String,
    /// `<id name="id">` or `<id name="key">`; empty for composite ids.
    pub id: String,
    pub props: Vec<(String, Value)>,
    /// Collections: name and element (class, id) pairs.
    pub collections: Vec<(String, Vec<(String, String)>)>,
}

impl Object {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    /// A scalar as text (`None` when missing, null or a reference).
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }
    pub(crate) fn reference(&self, name: &str) -> Option<(&str, &str)> {
        match self.get(name) {
            Some(Value::Ref { class, id }) => Some((class, id)),
            _ => None,
        }
    }
    pub(crate) fn ref_id(&self, name: &str) -> Option<i64> {
        self.reference(name)
            .and_then(|(_, id)| id.trim().parse().ok())
    }
    pub(crate) fn long(&self, name: &str) -> Option<i64> {
        self.text(name).and_then(|t| t.trim().parse().ok())
    }
    pub(crate) fn num_id(&self) -> Option<i64> {
        self.id.trim().parse().ok()
    }
    pub(crate) fn collection(&self, name: &str) -> &[(String, String)] {
        self.collections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
    /// Describes the object for a report: `Page 123`.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.class, self.id)
    }
}

/// Where the reader is inside the current object.
enum Slot {
    None,
    Id,
    Prop {
        name: String,
        reference: Option<String>,
        skip: bool,
        ref_id: Option<String>,
    },
    RefId {
        name: String,
        class: String,
    },
    Collection,
    Element {
        class: String,
    },
    ElementId {
        class: String,
    },
    /// An element this reader does not interpret (composite ids); depth.
    Other(usize),
}

fn wants_text(slot: &Slot) -> bool {
    matches!(
        slot,
        Slot::Id
            | Slot::Prop {
                skip: false,
                reference: None,
                ..
            }
            | Slot::RefId { .. }
            | Slot::ElementId { .. }
    )
}

pub(crate) struct ObjectReader<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    started: bool,
    /// Properties whose text is not needed (`body` in the first pass).
    skip: &'static [&'static str],
    last: String,
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

impl<R: BufRead> ObjectReader<R> {
    pub(crate) fn new(r: R, skip: &'static [&'static str]) -> Self {
        let mut reader = Reader::from_reader(r);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        ObjectReader {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            started: false,
            skip,
            last: "none yet".into(),
        }
    }

    fn err(&self, what: impl std::fmt::Display) -> ImportError {
        ImportError::Xml(format!(
            "entities.xml is not well-formed at byte {} (last object begun: {}): {what}",
            self.reader.buffer_position(),
            self.last
        ))
    }

    /// The next object, or `None` at the end of the document.
    pub(crate) fn next_object(&mut self) -> Result<Option<Object>, ImportError> {
        let mut obj: Option<Object> = None;
        let mut slot = Slot::None;
        let mut text = String::new();
        let mut coll: Vec<(String, String)> = Vec::new();
        let mut coll_name = String::new();
        loop {
            self.buf.clear();
            let ev = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => return Err(self.err(e)),
            };
            match ev {
                Event::Eof => {
                    if obj.is_some() {
                        return Err(self.err("the file ends inside an object (truncated?)"));
                    }
                    if !self.started {
                        return Err(ImportError::NotConfluence(
                            "entities.xml has no <hibernate-generic> root element".into(),
                        ));
                    }
                    return Ok(None);
                }
                Event::Start(e) if obj.is_none() => match e.local_name().as_ref() {
                    b"hibernate-generic" if !self.started => self.started = true,
                    b"object" if self.started => {
                        let o = Object {
                            class: attr(&e, b"class").unwrap_or_default(),
                            package: attr(&e, b"package").unwrap_or_default(),
                            ..Object::default()
                        };
                        self.last = format!("{} (package {})", o.class, o.package);
                        obj = Some(o);
                        slot = Slot::None;
                    }
                    other => {
                        let other = other.to_vec();
                        return Err(self.unexpected(&other));
                    }
                },
                Event::Empty(e) if obj.is_none() => {
                    let name = e.local_name().as_ref().to_vec();
                    if name == b"hibernate-generic" && !self.started {
                        self.started = true;
                    } else {
                        return Err(self.unexpected(&name));
                    }
                }
                Event::Start(e) => {
                    slot = match (
                        std::mem::replace(&mut slot, Slot::None),
                        e.local_name().as_ref(),
                    ) {
                        (Slot::Other(d), _) => Slot::Other(d + 1),
                        (Slot::None, b"id") => {
                            text.clear();
                            Slot::Id
                        }
                        (Slot::None, b"property") => {
                            text.clear();
                            let name = attr(&e, b"name").unwrap_or_default();
                            let skip = self.skip.contains(&name.as_str());
                            Slot::Prop {
                                name,
                                reference: attr(&e, b"class"),
                                skip,
                                ref_id: None,
                            }
                        }
                        (Slot::None, b"collection") => {
                            coll_name = attr(&e, b"name").unwrap_or_default();
                            coll.clear();
                            Slot::Collection
                        }
                        (
                            Slot::Prop {
                                name,
                                reference: Some(class),
                                ..
                            },
                            b"id",
                        ) => {
                            text.clear();
                            Slot::RefId { name, class }
                        }
                        (Slot::Collection, b"element") => Slot::Element {
                            class: attr(&e, b"class").unwrap_or_default(),
                        },
                        (Slot::Element { class }, b"id") => {
                            text.clear();
                            Slot::ElementId { class }
                        }
                        (Slot::None, _) => Slot::Other(1),
                        (other, _) => {
                            // Unexpected nesting inside a value: keep the
                            // outer slot's meaning, ignore the inner element.
                            drop(other);
                            Slot::Other(1)
                        }
                    };
                }
                Event::Empty(e) => {
                    if let (Slot::None, b"property") = (&slot, e.local_name().as_ref()) {
                        if let Some(o) = obj.as_mut() {
                            o.props
                                .push((attr(&e, b"name").unwrap_or_default(), Value::Null));
                        }
                    }
                }
                Event::Text(t) if wants_text(&slot) => {
                    let s = match t.unescape() {
                        Ok(s) => s,
                        Err(e) => return Err(self.err(e)),
                    };
                    text.push_str(&s);
                }
                Event::CData(t) if wants_text(&slot) => match std::str::from_utf8(&t) {
                    Ok(s) => text.push_str(s),
                    Err(e) => return Err(self.err(e)),
                },
                Event::End(e) => {
                    let Some(o) = obj.as_mut() else {
                        continue; // </hibernate-generic>
                    };
                    slot = match std::mem::replace(&mut slot, Slot::None) {
                        Slot::Other(d) if d > 1 => Slot::Other(d - 1),
                        Slot::Other(_) => Slot::None,
                        Slot::Id => {
                            o.id = std::mem::take(&mut text);
                            self.last = o.describe();
                            Slot::None
                        }
                        Slot::Prop {
                            name,
                            reference,
                            skip,
                            ref_id,
                        } => {
                            let v = match reference {
                                Some(class) => match ref_id {
                                    Some(id) => Value::Ref { class, id },
                                    None => Value::Null,
                                },
                                None if skip => Value::Text(String::new()),
                                None => Value::Text(std::mem::take(&mut text)),
                            };
                            o.props.push((name, v));
                            Slot::None
                        }
                        Slot::RefId { name, class } => Slot::Prop {
                            name,
                            reference: Some(class),
                            skip: false,
                            ref_id: Some(std::mem::take(&mut text)),
                        },
                        Slot::Collection => {
                            o.collections
                                .push((std::mem::take(&mut coll_name), std::mem::take(&mut coll)));
                            Slot::None
                        }
                        Slot::Element { .. } => Slot::Collection,
                        Slot::ElementId { class } => {
                            coll.push((class.clone(), std::mem::take(&mut text)));
                            Slot::Element { class }
                        }
                        Slot::None => {
                            if e.local_name().as_ref() == b"object" {
                                return Ok(obj.take());
                            }
                            Slot::None
                        }
                    };
                }
                _ => {}
            }
        }
    }

    fn unexpected(&self, name: &[u8]) -> ImportError {
        ImportError::NotConfluence(format!(
            "entities.xml is not a Confluence export: found <{}> where <{}> was expected (byte {})",
            String::from_utf8_lossy(name),
            if self.started {
                "object"
            } else {
                "hibernate-generic"
            },
            self.reader.buffer_position()
        ))
    }
}

/// Confluence writes `]]>` inside a CDATA value as `]] >`; put it back
/// where it closes the CDATA of a code macro (or a plain-text link body),
/// the only places storage format has a CDATA section.
pub(crate) fn repair_cdata(body: &str) -> std::borrow::Cow<'_, str> {
    if !body.contains("]] >") {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("]] >") {
        let after = &rest[i + 4..];
        out.push_str(&rest[..i]);
        if after.starts_with("</ac:plain-text-body>")
            || after.starts_with("</ac:plain-text-link-body>")
        {
            out.push_str("]]>");
        } else {
            out.push_str("]] >");
        }
        rest = after;
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(xml: &str) -> Vec<Object> {
        let mut r = ObjectReader::new(xml.as_bytes(), &[]);
        let mut v = Vec::new();
        while let Some(o) = r.next_object().unwrap() {
            v.push(o);
        }
        v
    }

    #[test]
    fn reads_scalars_references_collections_and_split_cdata() {
        let xml = r#"<?xml version="1.0"?><hibernate-generic datetime="x">
<object class="Page" package="p"><id name="id">7</id>
<property name="title"><![CDATA[a]]]]><![CDATA[>b &amp;]]></property>
<property name="parent" class="Page" package="p"><id name="id">5</id>
</property><property name="position"/>
<collection name="children" class="java.util.List"><element class="Page" package="p"><id name="id">8</id></element></collection>
<composite-id><property name="k" type="string">v</property></composite-id>
</object>
<object class="ConfluenceUserImpl" package="u"><id name="key">abc</id><property name="name">Jo &amp; Ann</property></object>
</hibernate-generic>"#;
        let o = objects(xml);
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].text("title"), Some("a]]>b &amp;"));
        assert_eq!(o[0].ref_id("parent"), Some(5));
        assert_eq!(o[0].get("position"), Some(&Value::Null));
        assert_eq!(
            o[0].collection("children"),
            &[("Page".to_string(), "8".to_string())]
        );
        assert_eq!(o[1].id, "abc");
        assert_eq!(o[1].text("name"), Some("Jo & Ann"));
    }

    #[test]
    fn refuses_other_xml_and_truncation() {
        let mut r = ObjectReader::new(&b"<html><body/></html>"[..], &[]);
        assert!(matches!(
            r.next_object(),
            Err(ImportError::NotConfluence(_))
        ));
        let mut r = ObjectReader::new(
            &b"<hibernate-generic><object class=\"Page\"><id name=\"id\">1</id><property name=\"t\">x"[..],
            &[],
        );
        assert!(r.next_object().is_err());
    }

    #[test]
    fn repairs_confluence_cdata_quirk_only_where_a_code_body_ends() {
        assert_eq!(
            repair_cdata("<ac:plain-text-body><![CDATA[x]] ></ac:plain-text-body> a]] >b"),
            "<ac:plain-text-body><![CDATA[x]]></ac:plain-text-body> a]] >b"
        );
    }
}
