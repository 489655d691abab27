//! Who is asking: a request's credentials (session cookie, HTTP Basic,
//! bearer token) resolved to a [`Viewer`], cached per credentials and data
//! generation, and the extractor handlers take it from.
//!
//! Invariant: a cached viewer is reused only for the same credentials in
//! the same generation and for at most `VIEWER_TTL`, so a revoked session,
//! token or permission is seen by the next request after the write.

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::auth::{
    basic_user, cookie, credentials_digest, session_user, token_user, SESSION_COOKIE, VIEWER_TTL,
};
use crate::error::{Error, Result};
use crate::perms::Viewer;
use crate::AppState;

pub(crate) async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Viewer> {
    // Read the generation before anything is read from the database.
    let key = state
        .generation
        .current()
        .map(|g| (g, credentials_digest(headers)));
    if let Some(k) = &key {
        if let Some((v, at)) = state.basic_cache.viewers.get(k) {
            if at.elapsed() < VIEWER_TTL {
                return Ok(v);
            }
        }
    }
    let v = resolve_uncached(state, headers).await?;
    if let Some(k) = key {
        state
            .basic_cache
            .viewers
            .insert(k, (v.clone(), Instant::now()));
    }
    Ok(v)
}

async fn resolve_uncached(state: &AppState, headers: &HeaderMap) -> Result<Viewer> {
    let db = state.pool.get().await?;
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let auth = auth
            .to_str()
            .map_err(|_| Error::Unauthorized("the Authorization header is not readable".into()))?;
        let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
        let user = if scheme.eq_ignore_ascii_case("basic") {
            basic_user(&state.basic_cache, &db, rest).await?
        } else if scheme.eq_ignore_ascii_case("bearer") {
            token_user(&db, rest.trim()).await?.ok_or_else(|| {
                Error::Unauthorized("the access token is not valid or has expired".into())
            })?
        } else {
            return Err(Error::Unauthorized(format!(
                "unsupported authorization scheme {scheme:?}; use Basic or Bearer"
            )));
        };
        return Viewer::load(&db, Some(user)).await;
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        if let Some((user, csrf)) = session_user(&db, token).await? {
            let mut v = Viewer::load(&db, Some(user)).await?;
            v.csrf = Some(csrf);
            return Ok(v);
        }
    }
    Viewer::load(&db, None).await
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        let v = resolve(state, &parts.headers).await?;
        parts.extensions.insert(v.clone());
        Ok(v)
    }
}
