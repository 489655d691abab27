//! Pictures of people and spaces: `/users/{name}/avatar` serves the picture
//! a user uploaded, or draws their initials (an SVG in a colour of their
//! own); `/profile/avatar` uploads or removes one's own. `/spaces/{key}/logo`
//! is a space's logo the same way, set by its administrators.
//!
//! Invariant: only PNG, JPEG, GIF and WebP pictures (checked by their first
//! bytes, not the name or the browser's word) up to 1 MiB are kept, in the
//! attachment store; a picture whose file is gone falls back to initials.

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::{see_other, UiResult};
use crate::error::Error;
use crate::perms::Viewer;
use crate::users;
use crate::AppState;

/// The largest picture kept.
const MAX_PICTURE: u64 = 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/{name}/avatar", get(avatar))
        .route("/profile/avatar", post(upload))
        .route(
            "/spaces/{key}/logo",
            get(space_logo).post(space_logo_upload),
        )
}

/// The media type of a picture by its first bytes.
fn picture_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Initials on a colour chosen by the username, as SVG.
fn initials_svg(username: &str, display_name: &str) -> String {
    const COLOURS: [&str; 8] = [
        "#0747A6", "#00666B", "#006644", "#974F0C", "#BF2600", "#403294", "#42526E", "#0052CC",
    ];
    let h = username
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    let colour = COLOURS[(h % COLOURS.len() as u32) as usize];
    let initials: String = display_name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"64\" height=\"64\">\
         <circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"{colour}\"/>\
         <text x=\"32\" y=\"41\" text-anchor=\"middle\" font-family=\"Arial, Helvetica, sans-serif\" \
         font-size=\"26\" font-weight=\"700\" fill=\"#fff\">{}</text></svg>",
        crate::content::xml_escape(&initials)
    )
}

fn image(bytes: Vec<u8>, media_type: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("image/png")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn avatar(State(app): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    if !viewer.can_use {
        return StatusCode::NOT_FOUND.into_response();
    }
    let found = match app.pool.get().await {
        Ok(db) => users::avatar(&db, &name).await,
        Err(e) => Err(e.into()),
    };
    match found {
        Ok(Some((display, picture))) => {
            if let Some((sha, ty)) = picture {
                if let Ok(bytes) = tokio::fs::read(app.files.path_of(&sha)).await {
                    return image(bytes, &ty);
                }
            }
            image(initials_svg(&name, &display).into_bytes(), "image/svg+xml")
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => e.into_response(),
    }
}

/// What a picture form sent: a checked picture (hash, media type), or
/// `remove=1`.
struct PictureForm {
    picture: Option<(String, &'static str)>,
    remove: bool,
}

/// Reads a picture form (`_csrf`, `file`, `remove`); the CSRF token must
/// come first, so a forged upload stores nothing.
async fn picture_form(
    app: &AppState,
    viewer: &Viewer,
    mp: &mut Multipart,
) -> Result<PictureForm, Error> {
    let mut csrf_ok = false;
    let mut out = PictureForm {
        picture: None,
        remove: false,
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(Error::BadRequest(format!("the upload failed: {e}"))),
        };
        match field.name().unwrap_or("") {
            "_csrf" => {
                let v = field.text().await.unwrap_or_default();
                csrf_ok = crate::web::csrf_matches(viewer, &v);
            }
            "remove" => out.remove = field.text().await.unwrap_or_default() == "1",
            "file" => {
                if !csrf_ok {
                    break;
                }
                if field.file_name().unwrap_or("").is_empty() {
                    continue;
                }
                let stored = app.files.put(field).await?;
                if stored.size > MAX_PICTURE {
                    return Err(Error::BadRequest("a picture may be up to 1 MiB".into()));
                }
                let mut head = vec![0u8; 16];
                let n = {
                    use tokio::io::AsyncReadExt;
                    let mut f = tokio::fs::File::open(app.files.path_of(&stored.sha256))
                        .await
                        .map_err(Error::internal)?;
                    f.read(&mut head).await.map_err(Error::internal)?
                };
                let Some(ty) = picture_type(&head[..n]) else {
                    return Err(Error::BadRequest(
                        "a picture must be a PNG, JPEG, GIF or WebP image".into(),
                    ));
                };
                out.picture = Some((stored.sha256, ty));
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(crate::web::form_expired());
    }
    Ok(out)
}

/// Uploads (`file`) or removes (`remove=1`) the viewer's own picture.
async fn upload(State(app): State<AppState>, viewer: Viewer, mut mp: Multipart) -> UiResult {
    let user = viewer.require_user()?.clone();
    let form = picture_form(&app, &viewer, &mut mp).await?;
    let db = app.pool.get().await?;
    match (form.remove, &form.picture) {
        (true, _) => users::set_avatar(&db, user.id, None).await?,
        (false, Some((sha, ty))) => users::set_avatar(&db, user.id, Some((sha, ty))).await?,
        (false, None) => return Err(Error::BadRequest("choose a picture to upload".into()).into()),
    }
    Ok(see_other(&format!(
        "/users/{}",
        crate::urls::enc(&user.username)
    )))
}

/// A space's logo, or its initials on a square of its own colour.
async fn space_logo(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Response {
    let found = match app.pool.get().await {
        Ok(db) => crate::content::logo(&db, &viewer, &key).await,
        Err(e) => Err(e.into()),
    };
    match found {
        Ok((s, logo)) => {
            if let Some((sha, ty)) = logo {
                if let Ok(bytes) = tokio::fs::read(app.files.path_of(&sha)).await {
                    return image(bytes, &ty);
                }
            }
            let svg = initials_svg(&s.key, &s.name).replace(
                "<circle cx=\"32\" cy=\"32\" r=\"32\"",
                "<rect width=\"64\" height=\"64\" rx=\"8\"",
            );
            image(svg.into_bytes(), "image/svg+xml")
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Uploads (`file`) or removes (`remove=1`) a space's logo (its
/// administrators only).
async fn space_logo_upload(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(key): Path<String>,
    mut mp: Multipart,
) -> UiResult {
    use super::OnField;
    let db = app.pool.get().await?;
    let s = crate::content::space_for_admin(&db, &viewer, &key).await?;
    let form = picture_form(&app, &viewer, &mut mp)
        .await
        .on_field("file")?;
    match (form.remove, &form.picture) {
        (true, _) => crate::content::set_logo(&db, &viewer, &s, None).await?,
        (false, Some((sha, ty))) => {
            crate::content::set_logo(&db, &viewer, &s, Some((sha, ty))).await?
        }
        (false, None) => {
            return Err(Error::BadRequest("choose a picture to upload".into())).on_field("file")
        }
    }
    Ok(super::notice::done(
        &format!("/spaces/{}/settings", crate::urls::enc(&s.key)),
        "saved",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_known_by_their_first_bytes() {
        assert_eq!(picture_type(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(picture_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(picture_type(b"<svg onload=alert(1)>"), None);
        let svg = initials_svg("bob", "Bob <Builder>");
        assert!(
            svg.contains(">BB</text>") && !svg.contains("<Builder>"),
            "{svg}"
        );
    }
}
