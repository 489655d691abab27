//! `include` and `excerpt-include`: another page's content, rendered by the
//! host as the reader (permissions, cycles and nesting depth are the host's
//! to enforce; this plugin only finds the page and frames the result).
use cairn_plugin_sdk::*;

struct Include;

/// "SPACE:Title" names a page in a space (the host writes page links this
/// way); a bare title is in the current space. A space key is upper-case
/// letters and digits, or `~user` for a personal space, so a title such as
/// "Re: minutes" stays a title.
fn target(value: &str, current_space: &str) -> (String, String) {
    let is_key = |k: &str| {
        !k.is_empty()
            && (k
                .strip_prefix('~')
                .is_some_and(|u| !u.is_empty() && !u.contains(' '))
                || k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    };
    match value.split_once(':') {
        Some((space, title)) if is_key(space) && !title.is_empty() => {
            (space.to_string(), title.to_string())
        }
        _ => (current_space.to_string(), value.to_string()),
    }
}

impl Macros for Include {
    fn describe() -> Vec<MacroSpec> {
        vec![
            MacroSpec::new("include", "Include page")
                .description("Shows the content of another page")
                .param(
                    ParamSpec::new("", "The page to include")
                        .of(ParamType::Page)
                        .required(),
                ),
            MacroSpec::new("excerpt-include", "Excerpt include")
                .description("Shows the excerpt of another page")
                .param(
                    ParamSpec::new("", "The page whose excerpt to show")
                        .of(ParamType::Page)
                        .required(),
                )
                .param(ParamSpec::new("name", "Which excerpt (default: the first)"))
                .param(
                    ParamSpec::new("nopanel", "Show the excerpt without a panel")
                        .of(ParamType::Boolean)
                        .default("false"),
                ),
        ]
    }

    fn render(call: MacroCall, ctx: RenderContext) -> Result<String, RenderError> {
        let Some(value) = call
            .param_nonempty("")
            .or_else(|| call.param_nonempty("page"))
        else {
            return Err(RenderError::InvalidParameter((
                String::new(),
                "name the page to include".into(),
            )));
        };
        let (space, title) = target(value, &ctx.space_key);
        let page = content::find(&space, &title).ok_or_else(|| {
            RenderError::NotFound(format!(
                "the page {title:?} does not exist or you may not view it"
            ))
        })?;
        let id = page.summary.id;
        if call.name == "include" {
            let html = content::render_page(id).map_err(RenderError::NotFound)?;
            return Ok(format!("<div class=\"include\">{html}</div>"));
        }
        let name = call.param_nonempty("name").unwrap_or("");
        let html = content::render_excerpt(id, name).map_err(RenderError::NotFound)?;
        if call.flag("nopanel") {
            Ok(format!(
                "<div class=\"include excerpt-include\">{html}</div>"
            ))
        } else {
            Ok(format!(
                "<div class=\"panel excerpt-include\"><div class=\"panel-body\">{html}</div></div>"
            ))
        }
    }
}

export!(Include);

#[cfg(test)]
mod tests {
    #[test]
    fn manifest_matches_describe() {
        use cairn_plugin_sdk::Macros;
        cairn_plugin_sdk::check_manifest(
            include_str!("../cairn-plugin.toml"),
            &super::Include::describe(),
        )
        .unwrap();
    }

    #[test]
    fn targets() {
        assert_eq!(
            super::target("DEV:Intro", "X"),
            ("DEV".into(), "Intro".into())
        );
        assert_eq!(super::target("Intro", "X"), ("X".into(), "Intro".into()));
        assert_eq!(
            super::target("Re: a talk", "X"),
            ("X".into(), "Re: a talk".into())
        );
    }
}
