//! The request bodies of the REST API as the OpenAPI document describes them.
//!
//! Invariant: handlers read bodies field by field from the JSON (`str_at`,
//! `id_value`, …) so that every 4xx names the field that is wrong and ids
//! may be numbers or strings, as Confluence's clients send them. Each body
//! here is a tree of exactly the fields those readers accept, and a unit test
//! checks that every dotted path a handler reads is described by one of them.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The shape of one field.
enum Shape {
    Str(&'static str),
    Int(&'static str),
    Bool(&'static str),
    /// Any JSON value.
    Any(&'static str),
    /// A content id: a number or a string of digits.
    Id,
    Binary,
    Object(&'static [Field]),
    ListOf(&'static [Field]),
}

/// A named field: (name, required, shape).
type Field = (&'static str, bool, Shape);

use Shape::*;

fn scalar(t: Type, doc: &str) -> Schema {
    let b = ObjectBuilder::new().schema_type(t);
    let b = if doc.is_empty() {
        b
    } else {
        b.description(Some(doc))
    };
    b.build().into()
}

fn schema_of(shape: &Shape) -> Schema {
    match shape {
        Str(doc) => scalar(Type::String, doc),
        Int(doc) => scalar(Type::Integer, doc),
        Bool(doc) => scalar(Type::Boolean, doc),
        Any(doc) => ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
            .description(Some(*doc))
            .build()
            .into(),
        Id => OneOfBuilder::new()
            .item(scalar(Type::Integer, ""))
            .item(scalar(Type::String, "digits"))
            .description(Some("a content id, as a number or a string"))
            .build()
            .into(),
        Binary => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .build()
            .into(),
        Object(fields) => object(fields),
        ListOf(fields) => ArrayBuilder::new()
            .items(utoipa::openapi::schema::ArrayItems::RefOrSchema(Box::new(
                object(fields).into(),
            )))
            .build()
            .into(),
    }
}

fn object(fields: &[Field]) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for (name, required, shape) in fields {
        b = b.property(*name, schema_of(shape));
        if *required {
            b = b.required(*name);
        }
    }
    b.build().into()
}

/// Every dotted path of `fields` (objects and lists included), for the test.
#[cfg(test)]
fn paths(prefix: &str, fields: &[Field], out: &mut Vec<String>) {
    for (name, _, shape) in fields {
        let p = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        if let Object(inner) | ListOf(inner) = shape {
            paths(&p, inner, out);
        }
        out.push(p);
    }
}

macro_rules! bodies {
    ($($(#[doc = $doc:literal])+ $name:ident = $fields:expr;)+) => {
        $(
            $(#[doc = $doc])+
            pub(crate) struct $name;

            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    let doc = [$($doc),+].join("\n");
                    match object($fields) {
                        Schema::Object(mut o) => {
                            o.description = Some(doc.trim().to_owned());
                            Schema::Object(o).into()
                        }
                        other => other.into(),
                    }
                }
            }

            impl ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        )+

        /// Every body with its fields, for the test.
        #[cfg(test)]
        const ALL: &[(&str, &[Field])] = &[$((stringify!($name), $fields)),+];
    };
}

const LABEL: &[Field] = &[
    ("prefix", false, Str("global (default) or my")),
    ("name", true, Str("")),
];

bodies! {
    /// Create or update content. `version.number` is required on update;
    /// `metadata.labels` may also be `{"results": [...]}`.
    ContentInput = &[
        ("type", false, Str("page (default), blogpost or comment")),
        ("title", false, Str("required for pages and blog posts")),
        ("status", false, Str("current; on update of trashed content, current restores it")),
        ("space", false, Object(&[("key", true, Str(""))])),
        ("body", false, Object(&[(
            "storage",
            true,
            Object(&[("value", true, Str("")), ("representation", false, Str("storage"))]),
        )])),
        ("ancestors", false, ListOf(&[("id", true, Id)])),
        ("container", false, Object(&[("id", true, Id)])),
        ("version", false, Object(&[
            ("number", false, Int("the new version: the current one plus one")),
            ("message", false, Str("")),
            ("minorEdit", false, Bool("no notifications for a minor edit")),
        ])),
        ("metadata", false, Object(&[
            ("labels", false, ListOf(LABEL)),
            ("properties", false, Any("on create, content properties by key: {\"KEY\": {\"value\": …}}")),
        ])),
        ("extensions", false, Object(&[
            ("location", false, Str("a comment's location: footer (default) or inline")),
            ("inlineProperties", false, Object(&[
                ("markerRef", true, Str("the inline-comment marker in the page body")),
                ("originalSelection", false, Str("the text commented on; written into the page as the marker when the page has none")),
                ("matchIndex", false, Int("which occurrence of originalSelection (0 = the first)")),
            ])),
        ])),
    ];
    /// Create a space.
    SpaceInput = &[
        ("key", true, Str("")),
        ("name", true, Str("")),
        ("description", false, Object(&[(
            "plain",
            false,
            Object(&[("value", false, Str("")), ("representation", false, Str("plain"))]),
        )])),
    ];
    /// Change a space: each field given replaces the current one (the key
    /// cannot change).
    SpaceUpdateInput = &[
        ("key", false, Str("if given, the key in the path")),
        ("name", false, Str("")),
        ("description", false, Object(&[(
            "plain",
            false,
            Object(&[("value", false, Str("")), ("representation", false, Str("plain"))]),
        )])),
        ("homepage", false, Object(&[("id", true, Id)])),
    ];
    /// A label to add.
    LabelInput = LABEL;
    /// Create (POST) or change (PUT, naming `templateId`) a content template.
    TemplateInput = &[
        ("templateId", false, Str("PUT: the template to change")),
        ("name", true, Str("")),
        ("templateType", false, Str("page (the only kind that can be stored)")),
        ("description", false, Str("")),
        ("space", false, Object(&[("key", true, Str("the space; none for a global template"))])),
        ("body", true, Object(&[(
            "storage",
            true,
            Object(&[("value", true, Str("")), ("representation", false, Str("storage"))]),
        )])),
        ("labels", false, ListOf(LABEL)),
        ("version", false, Object(&[("number", false, Int("PUT: the current version plus one"))])),
    ];
    /// A body to convert.
    ConvertInput = &[
        ("value", true, Str("")),
        ("representation", false, Str("the representation of value: storage or wiki")),
    ];
    /// A content property to create (`key`, `value`) or update (`value`
    /// and `version.number`: the current version plus one, or 1 to create it).
    PropertyInput = &[
        ("key", false, Str("required on create; on update, if given, the key in the path")),
        ("value", true, Any("any JSON but null, at most 32 KiB")),
        ("version", false, Object(&[
            ("number", false, Int("required on update: the current version plus one")),
            ("message", false, Str("")),
            ("minorEdit", false, Bool("")),
        ])),
    ];
    /// Copy a page alone (Confluence 7.9+ `POST /content/{id}/copy`):
    /// to the top of a space (`destination.type` `space`, value its key) or
    /// under a page (`parent_page`, value its id).
    CopyInput = &[
        ("destination", true, Object(&[
            ("type", true, Str("space or parent_page (existing_page, overwriting a page, is refused)")),
            ("value", true, Str("the space key or the parent page's id")),
        ])),
        ("pageTitle", false, Str("the copy's title (default: Copy of TITLE)")),
        ("copyAttachments", false, Bool("default true")),
        ("copyPermissions", false, Bool("the page restrictions; default true")),
        ("copyProperties", false, Bool("content properties; default true")),
        ("copyLabels", false, Bool("default true")),
        ("copyCustomContents", false, Bool("accepted; Cairn has no custom content")),
    ];
    /// Copy a page and the pages under it as a long task
    /// (`POST /content/{id}/pagehierarchy/copy`).
    HierarchyCopyInput = &[
        ("destinationPageId", true, Id),
        ("titleOptions", false, Object(&[
            ("prefix", false, Str("put before every copied title")),
            ("search", false, Str("")),
            ("replace", false, Str("")),
        ])),
        ("copyAttachments", false, Bool("default true")),
        ("copyPermissions", false, Bool("default true")),
        ("copyProperties", false, Bool("default true")),
        ("copyLabels", false, Bool("default true")),
        ("copyCustomContents", false, Bool("accepted; Cairn has no custom content")),
    ];
    /// A version operation: `restore` makes version `params.versionNumber`
    /// the content of a new version.
    VersionOperationInput = &[
        ("operationKey", true, Str("restore")),
        ("params", true, Object(&[
            ("versionNumber", true, Int("the version to restore")),
            ("message", false, Str("the new version's message")),
        ])),
    ];
    /// One operation's restriction to write (PUT and POST take a list of
    /// them); `user` and `group` may also be `{"results": [...]}`, as a GET
    /// answers them.
    RestrictionInput = &[
        ("operation", true, Str("read or update")),
        ("restrictions", false, Object(&[
            ("user", false, ListOf(&[
                ("type", false, Str("known")),
                ("username", false, Str("the user, by name")),
                ("userKey", false, Str("the user, by key")),
                ("accountId", false, Str("the user, by key")),
            ])),
            ("group", false, ListOf(&[
                ("type", false, Str("group")),
                ("name", true, Str("")),
            ])),
        ])),
    ];
    /// A personal access token to create.
    TokenInput = &[
        ("name", true, Str("")),
        ("expirationDuration", false, Int("days until it expires")),
    ];
    /// A multipart upload: one or more `file` parts, optional `comment`,
    /// `minorEdit`. Needs `X-Atlassian-Token: no-check`.
    Upload = &[
        ("file", true, Binary),
        ("comment", false, Str("")),
        ("minorEdit", false, Str("true or false")),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dotted paths each REST module reads from a request body. (The
    /// `/rest/cairn` endpoints — watch, notifications, inline resolution — are
    /// Cairn's own and not in the document.)
    fn read_paths(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        for reader in ["str_at(", "bool_at(", "pointer("] {
            for (i, _) in source.match_indices(reader) {
                let rest = &source[i + reader.len()..];
                let Some((arg, tail)) = rest.split_once(", \"") else {
                    continue;
                };
                if !matches!(arg, "&b" | "b" | "&body") {
                    continue;
                }
                if let Some((path, _)) = tail.split_once('"') {
                    out.push(path.to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn every_path_a_handler_reads_is_described() {
        let mut described = Vec::new();
        for (_, fields) in ALL {
            paths("", fields, &mut described);
        }
        let sources = [
            ("pages.rs", include_str!("pages.rs")),
            ("spaces.rs", include_str!("spaces.rs")),
            ("labels.rs", include_str!("labels.rs")),
            ("content_meta.rs", include_str!("content_meta.rs")),
            ("properties.rs", include_str!("properties.rs")),
            ("versions.rs", include_str!("versions.rs")),
            ("tokens.rs", include_str!("tokens.rs")),
            ("templates.rs", include_str!("templates.rs")),
            ("copy.rs", include_str!("copy.rs")),
            ("drafts.rs", include_str!("drafts.rs")),
        ];
        let mut seen = 0;
        for (file, text) in sources {
            for p in read_paths(text) {
                seen += 1;
                assert!(
                    described.contains(&p),
                    "{file} reads {p:?}, which no body in inputs.rs describes"
                );
            }
        }
        assert!(seen > 20, "the scan found only {seen} reads");
    }

    #[test]
    fn bodies_are_objects_with_their_required_fields() {
        let Schema::Object(o) = (match ContentInput::schema() {
            RefOr::T(s) => s,
            RefOr::Ref(_) => panic!("a reference"),
        }) else {
            panic!("not an object")
        };
        assert!(o.properties.contains_key("extensions"));
        assert!(o.description.unwrap().contains("version.number"));
        let Schema::Object(s) = (match SpaceInput::schema() {
            RefOr::T(s) => s,
            RefOr::Ref(_) => panic!("a reference"),
        }) else {
            panic!("not an object")
        };
        assert_eq!(s.required, ["key", "name"]);
    }
}
