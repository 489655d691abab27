//! `hello`: greets whoever the `name` parameter says, or the viewer.
use cairn_plugin_sdk::*;

struct Hello;

impl Macros for Hello {
    fn describe() -> Vec<MacroSpec> {
        vec![MacroSpec::new("hello", "Hello")
            .description("Greets someone")
            .inline()
            .param(ParamSpec::new("name", "Who to greet (default: the reader)"))]
    }

    fn render(call: MacroCall, ctx: RenderContext) -> Result<String, RenderError> {
        let name = match call.param_nonempty("name") {
            Some(n) => n.to_string(),
            None => ctx
                .viewer
                .map(|u| u.display_name)
                .unwrap_or_else(|| "stranger".into()),
        };
        let greeting = if cfg!(feature = "formal") {
            "Good day"
        } else {
            "Hello"
        };
        Ok(format!(
            "<span class=\"hello\">{greeting}, {}!</span>",
            escape(&name)
        ))
    }
}

export!(Hello);
