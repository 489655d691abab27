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
        NAMES.iter().map(|n| MacroSpec::new(n, n)).collect()
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
            _ => Err(fail("unknown")),
        }
    }
}

export!(Hostile);
