//! Plain text extraction for the search index.

use cairn_render::text;

#[test]
fn text_cases() {
    let cases: &[(&str, &str)] = &[
        ("<p>Hello <strong>wor</strong>ld</p><p>next</p>", "Hello world\nnext"),
        ("<h1>Title</h1><p>a&nbsp;&nbsp;b &mdash; c</p>", "Title\na b — c"),
        ("<table><tr><td>one</td><td>two</td></tr></table>", "one\ntwo"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        (
            "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">java</ac:parameter><ac:parameter ac:name=\"title\">secret-param</ac:parameter><ac:plain-text-body><![CDATA[int x = 1;]]></ac:plain-text-body></ac:structured-macro>",
            "int x = 1;",
        ),
        (
            "<p>See <ac:link><ri:page ri:content-title=\"Home\"/></ac:link> and <ac:link><ri:page ri:content-title=\"X\"/><ac:plain-text-link-body><![CDATA[the X]]></ac:plain-text-link-body></ac:link>.</p>",
            "See Home and the X.",
        ),
        ("<p>a<br/>b</p>", "a\nb"),
        ("<p>x<ac:placeholder>hint</ac:placeholder></p><script>evil()</script>", "x"),
        ("<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>do it</ac:task-body></ac:task></ac:task-list>", "do it"),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(text(input).as_deref(), Ok(*expected), "{input}");
    }
}
