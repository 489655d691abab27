//! The lexers' tests: the tokens cover the input for every language, and
//! characteristic tokens get their classes.

use super::*;

fn classes(lang: &str, src: &str) -> Vec<(String, String)> {
    let l = lookup(lang).expect("known language");
    let toks = highlight(l, src);
    assert!(covers(&toks, src), "tokens do not cover {src:?}: {toks:?}");
    toks.iter()
        .filter_map(|t| {
            t.class
                .map(|c| (c.to_string(), src[t.start..t.end].to_string()))
        })
        .collect()
}

fn has(lang: &str, src: &str, class: &str, text: &str) {
    let c = classes(lang, src);
    assert!(
        c.iter().any(|(k, t)| k == class && t == text),
        "{lang}: expected {class} {text:?} in {c:?}"
    );
}

const ALL: &[&str] = &[
    "rust",
    "c",
    "cpp",
    "csharp",
    "java",
    "kotlin",
    "go",
    "python",
    "ruby",
    "php",
    "javascript",
    "typescript",
    "json",
    "yaml",
    "toml",
    "sql",
    "bash",
    "powershell",
    "html",
    "xml",
    "css",
    "scss",
    "scala",
    "swift",
    "perl",
    "lua",
    "haskell",
    "diff",
    "properties",
    "ini",
    "markdown",
    "groovy",
    "dart",
    "text",
];

const NASTY: &[&str] = &[
    "",
    "\"",
    "'",
    "`",
    "/*",
    "<!--",
    "<",
    "<a",
    "<a b=",
    "<script>",
    "#[",
    "r#\"",
    "'\\",
    "x = \"unterminated\n next",
    "é'ü'ß",
    "--[[",
    "{-",
    "@\"",
    "<<EOF",
    "$",
    "${",
    "=begin",
    "=pod\n",
    "```rust\nfn x",
    "- [",
    "a: |\n  x",
    "key=",
    "\\",
    "/",
    "0x",
    "1e",
    ".5",
    "1..2",
    "\u{1F600}'",
    "'\u{1F600}'",
    "R\"(",
    "[[",
    "#!/bin/sh",
    "@@ -1 +1 @@",
    "*",
    "_a_",
    "[x](y",
    "$$",
    "$a$",
    "<?php $x ?>",
    "[System.String]",
    "-eq",
    "@'",
    "{",
    "}",
    "a:hover{",
    "url(",
];

#[test]
fn never_panics_and_covers() {
    for lang in ALL {
        let l = lookup(lang).unwrap();
        for s in NASTY {
            let toks = highlight(l, s);
            assert!(covers(&toks, s), "{lang} {s:?}: {toks:?}");
            // Every suffix at a char boundary, too.
            for (k, _) in s.char_indices() {
                let t = &s[k..];
                assert!(covers(&highlight(l, t), t), "{lang} {t:?}");
            }
        }
        // A mixed blob.
        let blob: String = NASTY.join("\n");
        assert!(covers(&highlight(l, &blob), &blob), "{lang} blob");
    }
}

#[test]
fn random_input_never_panics() {
    // Deterministic pseudo-random strings over an alphabet of delimiters, letters and
    // multi-byte characters.
    let alphabet: Vec<char> = "\"'`/*#-<>[]{}()=:;$@%!?\\\n\t ab0.xé😀|&+~^,_"
        .chars()
        .collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for lang in ALL {
        let l = lookup(lang).unwrap();
        for _ in 0..300 {
            let len = (next() % 40) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert!(covers(&highlight(l, &s), &s), "{lang} {s:?}");
        }
    }
}

#[test]
fn at_least_twenty_languages() {
    let distinct: std::collections::HashSet<String> = ALL
        .iter()
        .map(|l| format!("{:?}", lookup(l).unwrap()))
        .collect();
    assert!(distinct.len() >= 28, "{}", distinct.len());
}

#[test]
fn aliases() {
    for a in [
        "js", "py", "sh", "c#", "xml", "html/xml", "text", "none", "yml", "ps1", "rb", "kt", "ts",
        "c++",
    ] {
        assert!(lookup(a).is_some(), "{a}");
    }
    assert_eq!(lookup("text"), Some(Lang::Plain));
    assert_eq!(lookup("klingon"), None);
    assert_eq!(lookup("Python"), lookup("py"));
}

#[test]
fn rust() {
    let src = "#[derive(Debug)]\npub fn main() -> Result<(), String> { let x = 0x1F; // hi\n println!(\"a {}\", 'c'); let r = r#\"raw\"#; fn f<'a>(x: &'a str) {} }";
    has("rust", src, KW, "pub");
    has("rust", src, KW, "fn");
    has("rust", src, FN, "main");
    has("rust", src, TYPE, "Result");
    has("rust", src, ATTR, "#[derive(Debug)]");
    has("rust", src, NUM, "0x1F");
    has("rust", src, COM, "// hi");
    has("rust", src, FN, "println!");
    has("rust", src, STR, "\"a {}\"");
    has("rust", src, STR, "'c'");
    has("rust", src, STR, "r#\"raw\"#");
    has("rust", src, LIT, "'a");
    has("rust", "/* a /* b */ c */ x", COM, "/* a /* b */ c */");
}

#[test]
fn c_and_cpp() {
    has(
        "c",
        "#include <stdio.h>\nint main(void) { return 0; }",
        META,
        "#include <stdio.h>",
    );
    has("c", "int main(void) { return 0; }", TYPE, "int");
    has("c", "int main(void) { return 0; }", KW, "return");
    has(
        "cpp",
        "auto s = R\"x(a\"b)x\"; std::vector<int> v;",
        STR,
        "R\"x(a\"b)x\"",
    );
    has("cpp", "class Foo {};", TYPE, "Foo");
}

#[test]
fn python() {
    let src = "@app.route('/')\ndef hello(name: str = None):\n    \"\"\"Doc\n    string\"\"\"\n    return f'hi {name}'  # done";
    has("python", src, ATTR, "@app.route");
    has("python", src, KW, "def");
    has("python", src, FN, "hello");
    has("python", src, TYPE, "str");
    has("python", src, LIT, "None");
    has("python", src, STR, "\"\"\"Doc\n    string\"\"\"");
    has("python", src, STR, "f'hi {name}'");
    has("python", src, COM, "# done");
}

#[test]
fn javascript_regex_vs_division() {
    let src = "const re = /a[/]b/gi; let x = a / b / c;";
    has("js", src, RE, "/a[/]b/gi");
    let c = classes("js", src);
    assert!(
        !c.iter().any(|(k, t)| k == RE && t.contains("b / c")),
        "{c:?}"
    );
    has("js", "const s = `multi\nline`;", STR, "`multi\nline`");
    has("ts", "interface Foo { a: string }", KW, "interface");
    has("ts", "interface Foo { a: string }", TYPE, "string");
}

#[test]
fn json_keys() {
    let src = "{\"name\": \"cairn\", \"n\": 1.5e3, \"ok\": true, \"x\": null}";
    has("json", src, ATTR, "\"name\"");
    has("json", src, STR, "\"cairn\"");
    has("json", src, NUM, "1.5e3");
    has("json", src, LIT, "true");
}

#[test]
fn yaml() {
    let src = "# c\nkey: value\nlist:\n  - 1\n  - \"two\"\nflag: true\nblock: |\n  text here\nanchor: &a x\nnext: 2";
    has("yaml", src, COM, "# c");
    has("yaml", src, ATTR, "key");
    has("yaml", src, NUM, "1");
    has("yaml", src, STR, "\"two\"");
    has("yaml", src, LIT, "true");
    has("yaml", src, STR, "  text here");
    has("yaml", src, VAR, "&a");
    has("yaml", src, ATTR, "next");
}

#[test]
fn toml_ini_properties() {
    let src = "[package]\nname = \"x\" # c\nversion.workspace = true\ndate = 1979-05-27T07:32:00Z\n[[bin]]\n";
    has("toml", src, TYPE, "[package]");
    has("toml", src, ATTR, "name");
    has("toml", src, STR, "\"x\"");
    has("toml", src, COM, "# c");
    has("toml", src, LIT, "true");
    has("toml", src, NUM, "1979-05-27T07:32:00Z");
    has("toml", src, TYPE, "[[bin]]");
    has("ini", "; c\n[core]\nbare = false\n", TYPE, "[core]");
    has("ini", "; c\n[core]\nbare = false\n", LIT, "false");
    has("ini", "; c\n[core]\nbare = false\n", COM, "; c");
    has(
        "properties",
        "# c\napp.name=Cairn\nkey value\n",
        ATTR,
        "app.name",
    );
    has(
        "properties",
        "# c\napp.name=Cairn\nkey value\n",
        STR,
        "Cairn",
    );
    has(
        "properties",
        "# c\napp.name=Cairn\nkey value\n",
        ATTR,
        "key",
    );
}

#[test]
fn sql() {
    let src = "SELECT id, \"Name\" FROM users WHERE name = 'o''brien' -- who\nAND n > 3; select count(*) from t";
    has("sql", src, KW, "SELECT");
    has("sql", src, KW, "select");
    has("sql", src, VAR, "\"Name\"");
    has("sql", src, STR, "'o''brien'");
    has("sql", src, COM, "-- who");
    has("sql", src, NUM, "3");
    has("sql", src, FN, "count");
}

#[test]
fn shell() {
    let src = "#!/bin/bash\nif [ -f \"$HOME/x\" ]; then\n  echo ${NAME} $1 # comment\nfi\ncat <<EOF\nhello $x\nEOF\nls -la";
    has("bash", src, COM, "#!/bin/bash");
    has("bash", src, KW, "if");
    has("bash", src, ATTR, "-f");
    has("bash", src, STR, "\"$HOME/x\"");
    has("bash", src, VAR, "${NAME}");
    has("bash", src, VAR, "$1");
    has("bash", src, COM, "# comment");
    has("bash", src, STR, "<<EOF\nhello $x\nEOF");
    has("bash", src, FN, "echo");
    has("bash", src, ATTR, "-la");
    let c = classes("sh", "echo a#b");
    assert!(!c.iter().any(|(k, _)| k == COM), "{c:?}");
}

#[test]
fn powershell() {
    let src = "<# block #>\n$items = Get-ChildItem -Path $env:TEMP | Where-Object { $_.Length -gt 100 }\n[string]$s = \"a`\"b\" # c\n$true";
    has("powershell", src, COM, "<# block #>");
    has("powershell", src, VAR, "$items");
    has("powershell", src, FN, "Get-ChildItem");
    has("powershell", src, ATTR, "-Path");
    has("powershell", src, VAR, "$env:TEMP");
    has("powershell", src, OP, "-gt");
    has("powershell", src, TYPE, "[string]");
    has("powershell", src, STR, "\"a`\"b\"");
    has("powershell", src, LIT, "$true");
}

#[test]
fn markup() {
    let src = "<?xml version=\"1.0\"?>\n<!-- c -->\n<a href=\"x\" disabled>T &amp; <b>x</b></a>\n<script>var x = 1;</script><style>p { color: red }</style>";
    has("xml", src, META, "<?xml version=\"1.0\"?>");
    has("xml", src, COM, "<!-- c -->");
    has("xml", src, TAG, "<a");
    has("xml", src, ATTR, "href");
    has("xml", src, STR, "\"x\"");
    has("xml", src, ATTR, "disabled");
    has("xml", src, LIT, "&amp;");
    has("xml", src, TAG, "<b>");
    has("xml", src, TAG, "</b></a>");
    has("html", src, KW, "var");
    has("html", src, ATTR, "color");
}

#[test]
fn css() {
    let src = "@media (max-width: 900px) {\n  .a > p:hover, #id { color: #fff; margin: 0 auto !important; background: url(x.png) }\n}\n/* c */";
    has("css", src, KW, "@media");
    has("css", src, TYPE, ".a");
    has("css", src, TAG, "p");
    has("css", src, KW, ":hover");
    has("css", src, TYPE, "#id");
    has("css", src, ATTR, "color");
    has("css", src, NUM, "#fff");
    has("css", src, NUM, "0");
    has("css", src, KW, "!important");
    has("css", src, FN, "url");
    has("css", src, COM, "/* c */");
    has("scss", "$w: 10px;\n.a { width: $w; } // c", VAR, "$w");
    has("scss", "$w: 10px;\n.a { width: $w; } // c", COM, "// c");
}

#[test]
fn diff_and_markdown() {
    let d = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n same";
    has("diff", d, META, "--- a/x");
    has("diff", d, HUNK, "@@ -1,2 +1,2 @@");
    has("diff", d, DEL, "-old");
    has("diff", d, INS, "+new");
    let md = "# Title\n\nSome **bold** and *em* and `code` [link](http://x).\n\n- item\n1. first\n> quote\n\n```python\ndef f(): pass\n```\n";
    has("md", md, HEAD, "# Title");
    has("md", md, STRONG, "**bold**");
    has("md", md, EM, "*em*");
    has("md", md, STR, "`code`");
    has("md", md, LINK, "[link]");
    has("md", md, OP, "-");
    has("md", md, OP, "1.");
    has("md", md, KW, "def");
    has("md", md, META, "```python");
}

#[test]
fn others() {
    has("go", "func main() { s := `raw\\n` }", STR, "`raw\\n`");
    has("go", "func main() { s := `raw\\n` }", FN, "main");
    has(
        "java",
        "@Override public String toString() { return \"x\"; }",
        ATTR,
        "@Override",
    );
    has(
        "java",
        "@Override public String toString() { return \"x\"; }",
        TYPE,
        "String",
    );
    has("kotlin", "data class P(val x: Int)", KW, "val");
    has("kotlin", "data class P(val x: Int)", TYPE, "P");
    has(
        "csharp",
        "var s = @\"C:\\path\"; [Serializable]\nclass A {}",
        STR,
        "@\"C:\\path\"",
    );
    has("c#", "[Serializable]\nclass A {}", ATTR, "[Serializable]");
    has(
        "ruby",
        "def empty?\n  @items.nil? || :sym\nend",
        FN,
        "empty?",
    );
    has(
        "ruby",
        "def empty?\n  @items.nil? || :sym\nend",
        VAR,
        "@items",
    );
    has(
        "ruby",
        "def empty?\n  @items.nil? || :sym\nend",
        LIT,
        ":sym",
    );
    has(
        "php",
        "<?php\nfunction f($x) { echo \"hi\"; } ?>",
        META,
        "<?php",
    );
    has(
        "php",
        "<?php\nfunction f($x) { echo \"hi\"; } ?>",
        VAR,
        "$x",
    );
    has(
        "perl",
        "my %h = (a => 1); my @a = @{$r}; print $h{a};",
        VAR,
        "%h",
    );
    has(
        "perl",
        "my %h = (a => 1); my @a = @{$r}; print $h{a};",
        VAR,
        "@a",
    );
    has(
        "lua",
        "--[[ long\ncomment ]]\nlocal s = [[str]] -- c",
        COM,
        "--[[ long\ncomment ]]",
    );
    has(
        "lua",
        "--[[ long\ncomment ]]\nlocal s = [[str]] -- c",
        STR,
        "[[str]]",
    );
    has(
        "haskell",
        "{- c -}\nmain :: IO ()\nmain = putStrLn \"hi\" -- c",
        TYPE,
        "IO",
    );
    has(
        "haskell",
        "{- c -}\nmain :: IO ()\nmain = putStrLn \"hi\" -- c",
        COM,
        "{- c -}",
    );
    has("scala", "case class P(x: Int) extends T", KW, "case");
    has("swift", "guard let x = y else { return }", KW, "guard");
}
