//! Data-driven rendering tests: `tests/cases/NAME.xml` renders to `NAME.html`.
//! `UPDATE_EXPECT=1` rewrites the expected files (review the diff before committing).

use std::fmt::Write as _;
use std::path::Path;

use crate::ctx::TestContext;

fn cases_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// The expected file holds the HTML, then the headings as comment lines, so anchors are
/// reviewed along with the markup.
fn actual(input: &str) -> String {
    match cairn_render::render(input, &TestContext) {
        Ok(r) => {
            let mut s = pretty(&r.html);
            s.push('\n');
            for h in r.headings {
                let _ = writeln!(s, "<!-- h{} #{} {} -->", h.level, h.anchor, h.text);
            }
            s
        }
        Err(e) => format!("ERROR {e}\n"),
    }
}

/// One block per line, so mismatches show as readable line diffs. Test-side only: the
/// crate's output has no added whitespace.
fn pretty(html: &str) -> String {
    let mut s = html.to_owned();
    for end in [
        "</p>",
        "</div>",
        "</h1>",
        "</h2>",
        "</h3>",
        "</h4>",
        "</h5>",
        "</h6>",
        "</li>",
        "</tr>",
        "</table>",
        "</ul>",
        "</ol>",
        "</pre>",
        "</details>",
        "</blockquote>",
        "<hr>",
    ] {
        s = s.replace(end, &format!("{end}\n"));
    }
    s.trim_end().to_owned()
}

#[test]
fn render_cases() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut entries: Vec<_> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 20,
        "expected the case corpus, found {}",
        entries.len()
    );
    let mut failures = String::new();
    for input_path in &entries {
        let input = std::fs::read_to_string(input_path).expect("readable case");
        let expected_path = input_path.with_extension("html");
        let got = actual(&input);
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got == expected {
            continue;
        }
        if update {
            std::fs::write(&expected_path, &got).expect("writable case");
            continue;
        }
        let _ = writeln!(failures, "--- {}", expected_path.display());
        for change in similar::TextDiff::from_lines(&expected, &got).iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => " ",
            };
            let _ = write!(failures, "{sign}{change}");
        }
    }
    assert!(
        failures.is_empty(),
        "mismatching cases (UPDATE_EXPECT=1 to accept):\n{failures}"
    );
}
