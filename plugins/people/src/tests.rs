//! The macros against a fake store: parameters become the query the host is asked,
//! and what it answers is shown escaped.

use super::*;
use std::cell::RefCell;

#[derive(Default)]
struct Fake {
    asked: RefCell<Vec<ContributorQuery>>,
}

fn user(name: &str, display: &str) -> User {
    User {
        key: format!("key-{name}"),
        username: name.into(),
        display_name: display.into(),
    }
}

impl Store for Fake {
    fn person(&self, who: &str) -> Option<Profile> {
        (who == "key-ann" || who == "ann").then(|| Profile {
            user: user("ann", "Ann <Example>"),
            url: "/users/ann".into(),
            avatar_url: "/users/ann/avatar".into(),
            email: "ann@example.com".into(),
            active: true,
            personal_space: Some("~ann".into()),
        })
    }
    fn contributors(&self, q: &ContributorQuery) -> Result<Vec<Contributor>, String> {
        self.asked.borrow_mut().push(q.clone());
        if q.scope == "sideways" {
            return Err("scope: \"sideways\" is not \"\", children or descendants".into());
        }
        Ok(vec![
            Contributor {
                user: user("bob", "Bob"),
                edits: 5,
                comments: 1,
                watches: 0,
                last_active: "2026-01-02T10:00:00+00:00".into(),
            },
            Contributor {
                user: user("ann", "Ann & co"),
                edits: 2,
                comments: 0,
                watches: 1,
                last_active: "2026-03-04T10:00:00+00:00".into(),
            },
        ])
    }
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64> {
        (space_key == "DEV" && title == "Plan").then_some(7)
    }
}

fn ctx() -> RenderContext {
    RenderContext {
        page_id: Some(1),
        page_title: "Here".into(),
        page_type: "page".into(),
        space_key: "DEV".into(),
        page_version: 1,
        viewer: None,
        target: OutputTarget::View,
        headings: Vec::new(),
        base_url: String::new(),
    }
}

fn call(name: &str, params: &[(&str, &str)]) -> MacroCall {
    MacroCall::new(name, params, BodyKind::None, "")
}

#[test]
fn the_manifest_lists_every_macro_and_parameter() {
    check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
}

#[test]
fn a_profile_is_a_card_with_escaped_text() {
    let html = render(
        &Fake::default(),
        &call("profile", &[("user", "key-ann")]),
        &ctx(),
    )
    .unwrap();
    assert_eq!(
        html,
        "<div class=\"profile-card\"><img class=\"avatar\" src=\"/users/ann/avatar\" alt=\"\" width=\"48\" height=\"48\"><div class=\"profile-card-body\"><a class=\"profile-card-name\" href=\"/users/ann\">Ann &lt;Example&gt;</a><div class=\"profile-card-meta\">@ann · <a href=\"mailto:ann@example.com\">ann@example.com</a></div><div class=\"profile-card-space\"><a href=\"/spaces/~ann\">Personal space</a></div></div></div>"
    );
    assert!(matches!(
        render(
            &Fake::default(),
            &call("profile", &[("user", "zed")]),
            &ctx()
        ),
        Err(RenderError::NotFound(_))
    ));
    assert!(matches!(
        render(&Fake::default(), &call("profile", &[]), &ctx()),
        Err(RenderError::InvalidParameter(_))
    ));
}

#[test]
fn contributors_ask_for_this_page_by_default_and_list_people() {
    let f = Fake::default();
    let html = render(&f, &call("contributors", &[]), &ctx()).unwrap();
    assert_eq!(
        html,
        "<span class=\"contributors\"><a class=\"confluence-userlink\" href=\"/users/bob\">Bob</a>, <a class=\"confluence-userlink\" href=\"/users/ann\">Ann &amp; co</a></span>"
    );
    let q = f.asked.borrow()[0].clone();
    assert_eq!(q.page_ids, [1]);
    assert!(q.space_keys.is_empty() && q.include.is_empty());
}

#[test]
fn parameters_become_the_query_and_the_order() {
    let f = Fake::default();
    let html = render(
        &f,
        &call(
            "contributors",
            &[
                ("page", "Plan"),
                ("scope", "descendants"),
                ("include", "authors, comments,watches"),
                ("labels", "q1"),
                ("order", "name"),
                ("mode", "list"),
                ("showCount", "true"),
                ("showLastTime", "true"),
                ("limit", "1"),
            ],
        ),
        &ctx(),
    )
    .unwrap();
    assert_eq!(
        html,
        "<ul class=\"contributors\"><li><a class=\"confluence-userlink\" href=\"/users/ann\">Ann &amp; co</a> <span class=\"contributor-count\">(3)</span> <time class=\"contributor-last\" datetime=\"2026-03-04\">2026-03-04</time></li></ul>"
    );
    let q = f.asked.borrow()[0].clone();
    assert_eq!(q.page_ids, [7]);
    assert_eq!(q.scope, "descendants");
    assert_eq!(q.include, ["authors", "comments", "watches"]);
    assert_eq!(q.labels, ["q1"]);
    // Spaces instead of a page.
    render(
        &f,
        &call("contributors", &[("spaces", "@self,OPS")]),
        &ctx(),
    )
    .unwrap();
    let q = f.asked.borrow()[1].clone();
    assert!(q.page_ids.is_empty());
    assert_eq!(q.space_keys, ["DEV", "OPS"]);
}

#[test]
fn bad_parameters_are_named() {
    let f = Fake::default();
    for (p, v) in [
        ("order", "random"),
        ("mode", "grid"),
        ("limit", "0"),
        ("scope", "sideways"),
    ] {
        match render(&f, &call("contributors", &[(p, v)]), &ctx()) {
            Err(RenderError::InvalidParameter((name, _))) => assert_eq!(name, p),
            other => panic!("{p}={v}: {other:?}"),
        }
    }
    assert!(matches!(
        render(&f, &call("contributors", &[("page", "Nowhere")]), &ctx()),
        Err(RenderError::NotFound(_))
    ));
}
