//! Data-driven tests: `tests/cases.txt` holds CQL queries and what they parse to.
//!
//! Format, one case per pair of lines (blank lines and `#` comments are kept as they are):
//!
//! ```text
//! cql: type = page AND title ~ "foo*"
//! ok: (AND (= type "page") (~ title "foo*"))
//! cql: title foo
//! err: 6 expected an operator after "title"
//! ```
//!
//! `ok:` is the canonical `Display` of the parsed `Cql`; `err:` is the error position (in
//! characters) and a substring of its message. Everything after `cql: ` is the query,
//! verbatim. Queries are parsed at 2026-11-26T10:30:00Z (a Thursday) as user `alice`.
//!
//! Run with `UPDATE_EXPECT=1` to rewrite every expectation from the current output (full
//! error messages included), then review the diff.

use cairn_cql::{parse, Context, DateTime, Utc};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases.txt");

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:30:00Z")
        .expect("fixed test date is valid")
        .with_timezone(&Utc)
}

/// The expectation line describing what `query` parses to now.
fn actual(query: &str, user: Option<&str>) -> String {
    let ctx = Context {
        now: now(),
        current_user: user,
    };
    match parse(query, &ctx) {
        Ok(cql) => format!("ok: {cql}"),
        Err(e) => format!("err: {} {}", e.position, e.message),
    }
}

/// Whether `expected` (an `ok:`/`err:` line) accepts `actual`.
fn matches(expected: &str, actual: &str) -> bool {
    if let Some(exp) = expected.strip_prefix("err: ") {
        let Some(act) = actual.strip_prefix("err: ") else {
            return false;
        };
        let (exp_pos, exp_msg) = exp.split_once(' ').unwrap_or((exp, ""));
        let (act_pos, act_msg) = act.split_once(' ').unwrap_or((act, ""));
        exp_pos == act_pos && act_msg.contains(exp_msg.trim())
    } else {
        expected.trim_end() == actual
    }
}

#[test]
fn cases() {
    let text = std::fs::read_to_string(CASES).expect("read tests/cases.txt");
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        out.push(line.to_string());
        let Some(query) = line.strip_prefix("cql:") else {
            continue;
        };
        let query = query.strip_prefix(' ').unwrap_or(query);
        let got = actual(query, Some("alice"));
        let expected = lines
            .get(i)
            .filter(|l| l.starts_with("ok:") || l.starts_with("err:"));
        if let Some(exp) = expected {
            i += 1;
            if !matches(exp, &got) {
                failures.push(format!(
                    "line {i}: {query}\n  expected {exp}\n  actual   {got}"
                ));
            }
            out.push(if update { got.clone() } else { exp.to_string() });
        } else {
            failures.push(format!("line {i}: {query}\n  no expectation; actual {got}"));
            out.push(got.clone());
        }
        if got.starts_with("ok:") {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    if update {
        let mut new = out.join("\n");
        new.push('\n');
        std::fs::write(CASES, new).expect("write tests/cases.txt");
        return;
    }
    eprintln!("{valid} valid and {invalid} invalid CQL cases");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (UPDATE_EXPECT=1 rewrites them):\n{}",
        failures.len(),
        valid + invalid,
        failures.join("\n")
    );
    assert!(
        valid >= 60 && invalid >= 30,
        "too few cases: {valid} valid, {invalid} invalid"
    );
}

#[test]
fn current_user_needs_a_user() {
    assert_eq!(
        actual("creator = currentUser()", None),
        "err: 10 currentUser() needs a logged-in user"
    );
    assert_eq!(actual("creator = bob", None), "ok: (= creator \"bob\")");
}

#[test]
fn error_display_names_the_position() {
    let ctx = Context {
        now: now(),
        current_user: None,
    };
    let err = parse("title foo", &ctx).expect_err("missing operator");
    assert_eq!(
        err.to_string(),
        "invalid CQL at position 6: expected an operator after \"title\", found \"foo\""
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["(", "NOT "] {
        let query = format!("title = a AND {}title = a", open.repeat(10_000));
        let got = actual(&query, Some("alice"));
        assert!(
            got.starts_with("err: ") && got.contains("nested too deeply"),
            "{got}"
        );
    }
    // Long flat chains are not nesting.
    let chain = vec!["title = a"; 10_000].join(" AND NOT ");
    assert!(actual(&chain, None).starts_with("ok: (AND "));
    let fine = format!("{}title = a{}", "(".repeat(60), ")".repeat(60));
    assert_eq!(actual(&fine, None), "ok: (= title \"a\")");
}

/// Every prefix of every case query parses or fails cleanly, with the error inside the input.
#[test]
fn truncated_queries_never_panic() {
    let text = std::fs::read_to_string(CASES).expect("read tests/cases.txt");
    let ctx = Context {
        now: now(),
        current_user: Some("alice"),
    };
    for query in text.lines().filter_map(|l| l.strip_prefix("cql: ")) {
        let chars: Vec<char> = query.chars().collect();
        for end in 0..=chars.len() {
            let prefix: String = chars[..end].iter().collect();
            if let Err(e) = parse(&prefix, &ctx) {
                assert!(e.position <= end, "{prefix:?}: {e}");
            }
        }
    }
}
