//! `references` lists everything a body points at.

use cairn_render::{references, AttachmentRef, MacroBody, PageRef};

fn page(space: Option<&str>, title: &str) -> PageRef {
    PageRef {
        space_key: space.map(str::to_owned),
        title: title.into(),
        posting_day: None,
    }
}

#[test]
fn collects_every_kind_of_reference() {
    let body = r#"<p><ac:link><ri:page ri:content-title="Home"/></ac:link>
<ac:link><ri:blog-post ri:content-title="Launch" ri:posting-day="2024/01/15"/></ac:link>
<ac:link><ri:attachment ri:filename="a.pdf"><ri:page ri:space-key="DEV" ri:content-title="Specs"/></ri:attachment></ac:link>
<ac:image><ri:attachment ri:filename="pic.png"/></ac:image>
<ac:link><ri:user ri:userkey="u1"/></ac:link><ac:link><ri:user ri:username="bob"/></ac:link>
<ac:link><ri:content-entity ri:content-id="42"/></ac:link><ac:link><ri:space ri:space-key="OPS"/></ac:link>
<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter></ac:structured-macro></p>
<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ac:link><ri:page ri:space-key="DEV" ri:content-title="Root"/></ac:link></ac:parameter></ac:structured-macro>
<ac:structured-macro ac:name="info"><ac:rich-text-body><p>see <ac:link><ri:page ri:content-title="Nested"/></ac:link></p></ac:rich-text-body></ac:structured-macro>"#;
    let r = references(body).expect("well-formed");
    let pages: Vec<_> = r.pages.iter().cloned().collect();
    let launch = PageRef {
        space_key: None,
        title: "Launch".into(),
        posting_day: Some("2024/01/15".into()),
    };
    for expected in [
        page(None, "Home"),
        launch,
        page(Some("DEV"), "Specs"),
        page(Some("DEV"), "Root"),
        page(None, "Nested"),
    ] {
        assert!(
            pages.contains(&expected),
            "{expected:?} missing from {pages:?}"
        );
    }
    assert_eq!(pages.len(), 5);
    assert!(r.attachments.contains(&AttachmentRef {
        container: Some(page(Some("DEV"), "Specs")),
        filename: "a.pdf".into()
    }));
    assert!(r.attachments.contains(&AttachmentRef {
        container: None,
        filename: "pic.png".into()
    }));
    assert_eq!(r.users.iter().collect::<Vec<_>>(), ["bob", "u1"]);
    assert_eq!(r.content_ids.iter().collect::<Vec<_>>(), [&42]);
    assert_eq!(r.spaces.iter().collect::<Vec<_>>(), ["OPS"]);

    let names: Vec<_> = r.macros.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["status", "children", "info"]);
    assert!(r.macros[0].inline, "status inside a paragraph is inline");
    assert_eq!(
        r.macros[0].params.get("colour").map(String::as_str),
        Some("Green")
    );
    assert_eq!(
        r.macros[1].params.get("page").map(String::as_str),
        Some("Root")
    );
    assert_eq!(
        r.macros[1].param_pages.get("page"),
        Some(&page(Some("DEV"), "Root"))
    );
    assert!(!r.macros[1].inline);
    assert_eq!(
        r.macros[2].body,
        MacroBody::Rich(
            r#"<p>see <ac:link><ri:page ri:content-title="Nested"/></ac:link></p>"#.into()
        )
    );
}

#[test]
fn plain_bodies_and_legacy_default_parameters() {
    let body = "<ac:macro ac:name=\"code\"><ac:default-parameter>java</ac:default-parameter><ac:plain-text-body><![CDATA[a ]]]]><![CDATA[> b]]></ac:plain-text-body></ac:macro>";
    let r = references(body).expect("well-formed");
    assert_eq!(r.macros[0].params.get("").map(String::as_str), Some("java"));
    assert_eq!(r.macros[0].body, MacroBody::Plain("a ]]> b".into()));
}
