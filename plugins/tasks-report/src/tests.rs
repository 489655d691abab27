//! The report against a fake store: parameters become the query the host is asked.

use super::*;
use std::cell::RefCell;

#[derive(Default)]
struct Fake {
    asked: RefCell<Vec<TaskQuery>>,
}

impl Store for Fake {
    fn page_id(&self, space_key: &str, title: &str) -> Option<i64> {
        (space_key == "DEV" && title == "Plan").then_some(7)
    }
    fn tasks(&self, q: &TaskQuery) -> Result<Vec<Task>, String> {
        self.asked.borrow_mut().push(q.clone());
        Ok(vec![Task {
            page_id: 7,
            page_title: "Plan <1>".into(),
            space_key: "DEV".into(),
            page_url: "/spaces/DEV/pages/7/Plan".into(),
            id: "1".into(),
            body: "Ship & tell".into(),
            complete: false,
            assignee: Some(User {
                key: "k".into(),
                username: "ann".into(),
                display_name: "Ann".into(),
            }),
            due_date: Some("2026-01-05".into()),
            created: "2025-12-01T10:00:00+00:00".into(),
            completed: None,
        }])
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

fn call(params: &[(&str, &str)]) -> MacroCall {
    MacroCall::new("tasks-report-macro", params, BodyKind::None, "")
}

#[test]
fn parameters_become_the_query() {
    let f = Fake::default();
    let html = render(
        &f,
        &call(&[
            ("spaces", "@self, OPS"),
            ("pages", "Plan"),
            ("labels", "q1"),
            ("assignees", "ann,bob"),
            ("createddateFrom", "01-12-2025"),
            ("status", "complete"),
            ("pageSize", "5"),
            ("sortBy", "assignee"),
            ("reverseSort", "true"),
        ]),
        &ctx(),
    )
    .unwrap();
    let q = f.asked.borrow()[0].clone();
    assert_eq!(q.space_keys, ["DEV", "OPS"]);
    assert_eq!(q.page_ids, [7]);
    assert_eq!(q.labels, ["q1"]);
    assert_eq!(q.assignees, ["ann", "bob"]);
    assert_eq!(q.created_from.as_deref(), Some("2025-12-01"));
    assert_eq!(q.complete, Some(true));
    assert_eq!(q.limit, 5);
    assert_eq!(q.sort_by, "assignee");
    assert!(q.descending);
    assert!(html.contains("Ship &amp; tell"), "{html}");
    assert!(html.contains("<a class=\"user-mention\" href=\"/users/ann\">Ann</a>"));
    assert!(html.contains("Plan &lt;1&gt;"));
}

#[test]
fn defaults_and_bad_parameters() {
    let f = Fake::default();
    render(&f, &call(&[]), &ctx()).unwrap();
    let q = f.asked.borrow()[0].clone();
    assert_eq!(q.complete, Some(false));
    assert_eq!(q.limit, 20);
    assert!(q.space_keys.is_empty());
    for (p, v) in [
        ("status", "maybe"),
        ("pageSize", "-1"),
        ("columns", "colour"),
        ("createddateFrom", "soon"),
    ] {
        assert!(
            matches!(render(&f, &call(&[(p, v)]), &ctx()), Err(RenderError::InvalidParameter((ref n, _))) if n == p),
            "{p}={v}"
        );
    }
    assert!(matches!(
        render(&f, &call(&[("pages", "Nowhere")]), &ctx()),
        Err(RenderError::NotFound(_))
    ));
}

#[test]
fn manifest_matches_describe() {
    check_manifest(include_str!("../cairn-plugin.toml"), &specs()).unwrap();
}
