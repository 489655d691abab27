//! The OpenAPI document of the REST surface, generated from the handlers'
//! `#[utoipa::path]` annotations and the response types of `shapes.rs`
//! (the same types the handlers serialize). Served at
//! `/rest/api/openapi.json`; the test suite fuzzes it with schemathesis.
//!
//! Invariant: every documented operation lists the same error responses
//! ([`ErrorResponses`], the Confluence envelope), and every response body
//! is described by the type that produces it.

use serde_json::Value;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};

use super::inputs::{
    ContentInput, ConvertInput, LabelInput, PropertyInput, RestrictionInput, SpaceInput,
    SpaceUpdateInput, TemplateInput, TokenInput, Upload, VersionOperationInput,
};
use super::shapes::*;
use crate::error::ErrorEnvelope;

#[derive(OpenApi)]
#[openapi(
    info(title = "Cairn REST API", description = "Confluence Server/Data Center REST API v1, as served by Cairn."),
    paths(
        super::spaces_list, super::space_create, super::space_get, super::space_delete,
        super::space_content, super::space_content_typed,
        super::content_list, super::content_create, super::content_get, super::content_update,
        super::content_delete, super::content_history, super::content_versions, super::content_version,
        super::attachment_download, super::child_all, super::child_pages, super::child_comments,
        super::child_attachments, super::attachment_create, super::attachment_data,
        super::descendant_pages, super::labels_get, super::labels_post, super::label_delete_q,
        super::label_delete, super::restrictions, super::restrictions_list, super::restrictions_replace,
        super::restrictions_add, super::restrictions_delete, super::restriction_of,
        super::restriction_user_get, super::restriction_user_add, super::restriction_user_remove,
        super::restriction_group_get, super::restriction_group_add, super::restriction_group_remove,
        super::space_update, super::version_operation, super::version_delete,
        super::properties, super::property_create,
        super::property_get, super::property_update, super::property_delete, super::convert, super::search,
        super::content_search, super::user_get, super::user_current, super::pat_create, super::pat_list,
        super::pat_delete, super::templates_page, super::templates_blueprint, super::template_get,
        super::template_delete, super::template_create, super::template_update,
        super::longtask_get, super::longtask_list, super::watch::watch_content,
        super::watch::watch_space, super::watch::notification_created,
        super::watch::notification_child_created, super::copy::content_copy,
        super::copy::hierarchy_copy,
    ),
    components(schemas(ErrorEnvelope, Content, Space, Label, Version, History, User, Restrictions,
        BodyValue, TokenCreated, Token, ContentInput, SpaceInput, LabelInput, ConvertInput,
        TokenInput, Upload, PropertyInput, ContentProperty, RestrictionInput, SpaceUpdateInput,
        VersionOperationInput, Restriction, super::templates::ContentTemplate,
        super::templates::TemplateBody, super::templates::SpaceRef, TemplateInput,
        super::spaces::LongTaskRef, super::spaces::LongTaskStatus, super::shapes::Watching,
        super::shapes::Watch, super::inputs::CopyInput, super::inputs::HierarchyCopyInput)),
    modifiers(&Security, &ErrorResponses),
    security(("basic" = []), ("bearer" = [])),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The error responses every operation may answer with, listed once: each
/// is Confluence's envelope ([`ErrorEnvelope`]).
const ERRORS: [(u16, &str); 7] = [
    (400, "bad input"),
    (401, "authentication required"),
    (403, "not allowed or XSRF check failed"),
    (404, "not found or not visible"),
    (409, "conflict"),
    (413, "too large"),
    (429, "rate limited"),
];

/// Adds [`ERRORS`] to every operation (an operation's own entry for the
/// same status, if any, wins).
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let envelope = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name(
                    ErrorEnvelope::name(),
                ))))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                for (status, description) in ERRORS {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/json", envelope())
                                .build()
                                .into()
                        });
                }
            }
        }
    }
}

pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_lists_the_error_responses_once_defined() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        assert_eq!(
            paths
                .values()
                .map(|p| p.as_object().unwrap().len())
                .sum::<usize>(),
            72
        );
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                for (status, _) in ERRORS {
                    let r = &op["responses"][status.to_string()];
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorEnvelope",
                        "{method} {path} {status}"
                    );
                }
            }
        }
        for schema in [
            "Content",
            "Space",
            "Version",
            "ErrorEnvelope",
            "ContentInput",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} is missing"
            );
        }
    }
}
