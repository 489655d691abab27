//! Macros that misbehave, one way each.
use cairn_plugin_sdk::*;

struct Hostile;

const NAMES: &[&str] = &[
    "hostile-loop",
    "hostile-memory",
    "hostile-recursion",
    "hostile-trap",
    "hostile-huge",
    "hostile-script",
    "hostile-flood",
    "hostile-slow-ok",
    "hostile-sleep",
    "hostile-deep",
    "hostile-unclosed",
    "hostile-error-huge",
    "hostile-log-forge",
    "hostile-kv-fill",
];

#[inline(never)]
fn recurse(n: u64, acc: &mut Vec<u64>) -> u64 {
    let mut local = [n; 64];
    local[(n % 64) as usize] = n.wrapping_mul(3);
    acc.push(local[3]);
    recurse(n + 1, acc) + local[(n % 7) as usize]
}

impl Macros for Hostile {
    fn describe() -> Vec<MacroSpec> {
        let mut v: Vec<MacroSpec> = NAMES.iter().map(|n| MacroSpec::new(n, n)).collect();
        // Claims to be cacheable, then reads content as the viewer: the host
        // must not cache what it returns for other viewers.
        v.push(
            MacroSpec::new("hostile-peek", "hostile-peek")
                .cacheable(true)
                .param(ParamSpec::new("q", "function:argument")),
        );
        v
    }

    fn render(call: MacroCall, _ctx: RenderContext) -> Result<String, RenderError> {
        match call.name.as_str() {
            "hostile-loop" => {
                let mut i: u64 = 0;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "hostile-memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "hostile-recursion" => {
                let mut acc = Vec::new();
                Ok(recurse(0, &mut acc).to_string())
            }
            "hostile-trap" => panic!("deliberate panic"),
            "hostile-huge" => Ok("<p>".to_string() + &"x".repeat(2 << 20) + "</p>"),
            "hostile-script" => Ok(
                "<p>safe text</p><script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">link</a>"
                    .into(),
            ),
            "hostile-flood" => {
                for i in 0..1_000_000u32 {
                    log::info(&format!("flood {i}"));
                }
                Ok("done".into())
            }
            "hostile-slow-ok" => {
                // Busy for a while (about 20 ms of work), then fine: used to
                // saturate the instance slots.
                let mut x: u64 = 1;
                for i in 0..20_000_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
                }
                Ok(format!("<span class=\"slow\">ok {}</span>", x % 10))
            }
            "hostile-sleep" => {
                // A blocking WASI wait (a clock subscription and a poll).
                std::thread::sleep(std::time::Duration::from_secs(40));
                Ok("<span class=\"woke\">woke</span>".into())
            }
            "hostile-deep" => Ok("<div>".repeat(20_000) + &"</div>".repeat(20_000)),
            "hostile-unclosed" => Ok("<div>".repeat(200_000)),
            "hostile-error-huge" => Err(fail("<".repeat(8 << 20))),
            "hostile-log-forge" => {
                log::info("innocent\n2026-01-01T00:00:00Z ERROR cairn: forged line\r\u{1b}[31m");
                Ok("logged".into())
            }
            "hostile-kv-fill" => {
                // Up to 4 MiB more per call, until the store refuses.
                let have = kv::keys("fill-", 10_000).len();
                let value = vec![7u8; 1 << 20];
                for i in have..have + 4 {
                    if let Err(e) = kv::set(&format!("fill-{i:05}"), &value) {
                        return Ok(format!("<p class=\"kv-full\">refused after {i}: {}</p>", escape(&e)));
                    }
                }
                Ok(format!("<p class=\"kv-more\">{}</p>", have + 4))
            }
            "hostile-peek" => peek(call.param("q").unwrap_or_default()),
            _ => Err(fail("unknown")),
        }
    }
}

/// Calls one `content` function named by `q` ("get:ID", "find:SPACE:Title",
/// "children:ID", "attachments:ID", "labels:ID", "with-labels:LABEL",
/// "render-page:ID", "render-excerpt:ID", "recent:SPACE") and shows all it
/// got back.
fn peek(q: &str) -> Result<String, RenderError> {
    let (f, arg) = q.split_once(':').unwrap_or((q, ""));
    let id = || arg.trim().parse::<i64>().unwrap_or(0);
    let page = |p: Option<content::Page>| match p {
        Some(p) => format!("{} | {} | {}", p.summary.title, p.body, p.labels.join(",")),
        None => "none".to_string(),
    };
    let titles = |l: Vec<content::ContentSummary>| {
        l.iter()
            .map(|s| s.title.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = match f {
        "get" => page(content::get(id())),
        "find" => {
            let (space, title) = arg.split_once(':').unwrap_or((arg, ""));
            page(content::find(space, title))
        }
        "children" => titles(content::children(id(), 100)),
        "attachments" => content::attachments(id())
            .iter()
            .map(|a| a.filename.clone())
            .collect::<Vec<_>>()
            .join(", "),
        "labels" => content::labels(id()).join(", "),
        "with-labels" => titles(content::with_labels(&[arg.to_string()], &[], 100)),
        "render-page" => content::render_page(id()).unwrap_or_else(|e| e),
        "render-excerpt" => content::render_excerpt(id(), "").unwrap_or_else(|e| e),
        "recent" => titles(content::recently_updated(&[arg.to_string()], &[], 100)),
        other => return Err(fail(format!("unknown function {other}"))),
    };
    Ok(format!("<div class=\"peek\">{}</div>", escape(&text)))
}

export!(Hostile);
