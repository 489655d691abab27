//! Well-formedness: what is refused, and where the error is reported.

use cairn_render::{check, SyntaxError};

fn err(input: &str) -> (usize, usize, String) {
    let SyntaxError {
        line,
        column,
        message,
    } = check(input).expect_err(&format!("should be refused: {input:?}"));
    (line, column, message)
}

#[test]
fn refused_with_position() {
    // (input, line, column, words the message must contain)
    let cases: &[(&str, usize, usize, &str)] = &[
        ("<p>open", 1, 1, "unclosed tag <p>"),
        ("<p>a</p>\n<div>\n  <p>x</p>", 2, 1, "unclosed tag <div>"),
        ("<p><strong>a</p>", 1, 13, "expected </strong>, found </p>"),
        (
            "<p>a</p>\n<p>b</em></p>",
            2,
            5,
            "expected </p>, found </em>",
        ),
        ("<p>x</p></div>", 1, 9, "without an opening tag"),
        ("<p>a &bogus; b</p>", 1, 6, "unknown entity &bogus;"),
        (
            "<p>line one</p>\n<p>caf\u{e9} &nope;</p>",
            2,
            9,
            "unknown entity &nope;",
        ),
        ("<p>fish & chips</p>", 1, 9, "entity"),
        ("<p>1 < 2</p>", 1, 6, "stray `<`"),
        ("<p class=\"a\" class=\"b\">x</p>", 1, 1, "bad attribute"),
        ("<p class=a>x</p>", 1, 1, "bad attribute"),
        ("<a href=\"&evil;\">x</a>", 1, 1, "unknown entity &evil;"),
        (
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><p>&e;</p>",
            1,
            1,
            "DOCTYPE",
        ),
        ("<p>&#0;</p>", 1, 4, "character reference"),
    ];
    let mut failures = Vec::new();
    for (input, line, column, words) in cases {
        let got = err(input);
        if got.0 != *line || got.1 != *column || !got.2.contains(words) {
            failures.push(format!(
                "{input:?}: expected {line}:{column} `{words}`, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_bodies_pass() {
    let ok = [
        "",
        "plain text",
        "<p>a&nbsp;b &mdash; c &hellip; &eacute; &amp; &lt; &#8364; &#x1F600; &apos;</p>",
        "<ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>x</p></ac:rich-text-body></ac:structured-macro>",
        "<p><ac:link><ri:page ri:content-title=\"T&amp;C\" ri:space-key=\"X\"/></ac:link></p>",
        "<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[a ]]]]><![CDATA[> b <c> & d]]></ac:plain-text-body></ac:structured-macro>",
        "<p>one</p><p>two</p><!-- comment -->",
        "<br/><hr /><p title='single quoted'>x</p>",
        "<p>1 &gt; 2 and 2 > 1</p>",
    ];
    for input in ok {
        assert_eq!(check(input), Ok(()), "{input:?}");
    }
}

#[test]
fn render_and_text_refuse_what_check_refuses() {
    let bad = "<p>open";
    assert!(cairn_render::render(bad, &crate::ctx::TestContext).is_err());
    assert!(cairn_render::text(bad).is_err());
    assert!(cairn_render::references(bad).is_err());
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = "<span>".repeat(100_000) + &"</span>".repeat(100_000);
    assert!(err(&deep).2.contains("nested deeper"));
    // Nesting well inside the limit renders.
    let ok = "<div>".repeat(300) + "x" + &"</div>".repeat(300);
    assert!(cairn_render::render(&ok, &crate::ctx::TestContext).is_ok());
}
