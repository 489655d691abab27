//! Version diffs.

use cairn_render::{diff_inline_html, diff_side_by_side_html};

#[test]
fn changed_words_are_marked() {
    let old = "<p>The quick brown fox</p>\n<p>unchanged</p>\n<p>gone line</p>\n";
    let new = "<p>The slow brown fox</p>\n<p>unchanged</p>\n";
    let html = diff_inline_html(old, new);
    assert!(html.contains("<del>quick</del>"), "{html}");
    assert!(html.contains("<ins>slow</ins>"), "{html}");
    assert!(
        html.contains("<div class=\"diff-line diff-eq\">&lt;p&gt;unchanged&lt;/p&gt;</div>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<div class=\"diff-line diff-del\"><del>&lt;p&gt;gone line&lt;/p&gt;</del></div>"
        ),
        "{html}"
    );

    let table = diff_side_by_side_html(old, new);
    assert!(table.starts_with("<table class=\"diff\">"), "{table}");
    assert!(
        table.contains("<del>quick</del>") && table.contains("<ins>slow</ins>"),
        "{table}"
    );
    assert!(
        table.contains("<td class=\"diff-new\"></td>"),
        "deleted line has an empty right cell: {table}"
    );
}

#[test]
fn output_is_escaped() {
    let old = "<script>alert(1)</script> & \"q\"\n";
    let new = "<script>alert(2)</script> & \"q\"\n<img src=x onerror=alert(1)>\n";
    for html in [diff_inline_html(old, new), diff_side_by_side_html(old, new)] {
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("&amp; &quot;q&quot;"), "{html}");
        // What the diff adds is only its own markup.
        assert!(!cairn_render::sanitize(&html).contains("<script"));
    }
}

#[test]
fn identical_texts_have_no_marks() {
    let html = diff_inline_html("a\nb\n", "a\nb\n");
    assert!(!html.contains("<ins>") && !html.contains("<del>"), "{html}");
}
