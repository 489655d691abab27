//! Authentication: passwords (argon2id), server-side sessions in PostgreSQL,
//! HTTP Basic with a verified-credentials cache, personal access tokens,
//! and throttling of failed logins. Resolves a request to a [`Viewer`].
//!
//! Invariant: only hashes of secrets are stored (sessions and tokens as
//! SHA-256, passwords as argon2id); a password is never logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::Engine;
use deadpool_postgres::GenericClient;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::perms::{User, Viewer};

pub(crate) const SESSION_COOKIE: &str = "cairn_session";
/// Double-submit token for forms shown before login (the login form itself).
pub(crate) const PRELOGIN_CSRF_COOKIE: &str = "cairn_csrf";
const SESSION_DAYS: i64 = 14;
const MAX_FAILURES: i32 = 5;
const FAILURE_WINDOW_MIN: i64 = 15;
const LOCK_MIN: i64 = 5;

pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sha256_hex(s: &[u8]) -> String {
    hex::encode(Sha256::digest(s))
}

/// Argon2id takes 19 MiB and tens of milliseconds per hash: at most two
/// run at once (two cores), so a burst of logins queues instead of holding
/// hundreds of megabytes and starving page views.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Hashes a password with argon2id off the async runtime.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    let _permit = HASHING.acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

/// Verifies a password against a stored hash off the async runtime.
pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

pub(crate) fn validate_password(p: &str) -> Result<()> {
    if p.chars().count() < 8 {
        return Err(Error::BadRequest(
            "the password must have at least 8 characters".into(),
        ));
    }
    if p.len() > 1024 {
        return Err(Error::BadRequest(
            "the password is longer than 1024 bytes".into(),
        ));
    }
    Ok(())
}

fn row_user(r: &tokio_postgres::Row) -> User {
    User {
        id: r.get("id"),
        username: r.get("username"),
        display_name: r.get("display_name"),
        user_key: r.get("user_key"),
        email: r.get("email"),
    }
}

const USER_COLS: &str = "id, username, display_name, user_key, email, password_hash, active";

/// Credentials already verified, keyed by SHA-256 of `user:password`. A hit
/// is only trusted while the user's stored hash is unchanged, so a password
/// change or reset invalidates it on every node without messaging.
///
/// It also holds resolved viewers, keyed by the data generation
/// ([`crate::changes`]) and a digest of the request's credentials (session
/// cookie or Authorization header), trusted for at most [`VIEWER_TTL`] — so
/// a page view needs no session or permission query while nothing changed.
#[derive(Clone)]
pub(crate) struct BasicCache {
    inner: Arc<quick_cache::sync::Cache<[u8; 32], (String, Instant)>>,
    pub(crate) viewers: Arc<quick_cache::sync::Cache<ViewerKey, (Viewer, Instant)>>,
}

/// (data generation, SHA-256 of the request's credentials)
type ViewerKey = (u64, [u8; 32]);

impl Default for BasicCache {
    fn default() -> Self {
        BasicCache {
            inner: Arc::new(quick_cache::sync::Cache::new(10_000)),
            viewers: Arc::new(quick_cache::sync::Cache::new(10_000)),
        }
    }
}

/// A cached viewer is re-read after this long even if nothing changed, so a
/// session's sliding expiry is still written now and then.
pub(crate) const VIEWER_TTL: Duration = Duration::from_secs(60);

const BASIC_TTL: Duration = Duration::from_secs(300);

/// Checks login throttling for `username`; errors when it is locked.
async fn check_throttle(db: &impl GenericClient, username: &str) -> Result<()> {
    let row = crate::db::query_opt(
        db,
        "SELECT ceil(extract(epoch FROM locked_until - now()))::bigint FROM login_failures
             WHERE username = lower($1) AND locked_until > now()",
        &[&username],
    )
    .await?;
    if let Some(r) = row {
        let secs: i64 = r.get(0);
        return Err(Error::TooManyRequests(format!(
            "too many failed logins for this account; try again in {} seconds",
            secs.max(1)
        )));
    }
    Ok(())
}

async fn record_failure(db: &impl GenericClient, username: &str) -> Result<()> {
    crate::db::execute(db,
        &format!(
            "INSERT INTO login_failures (username, failures, window_start) VALUES (lower($1), 1, now())
             ON CONFLICT (username) DO UPDATE SET
               failures = CASE WHEN login_failures.window_start < now() - interval '{FAILURE_WINDOW_MIN} minutes'
                               THEN 1 ELSE login_failures.failures + 1 END,
               window_start = CASE WHEN login_failures.window_start < now() - interval '{FAILURE_WINDOW_MIN} minutes'
                               THEN now() ELSE login_failures.window_start END,
               locked_until = CASE WHEN login_failures.failures + 1 >= {MAX_FAILURES}
                               AND login_failures.window_start >= now() - interval '{FAILURE_WINDOW_MIN} minutes'
                               THEN now() + interval '{LOCK_MIN} minutes' ELSE login_failures.locked_until END"
        ),
        &[&username],
    )
    .await?;
    Ok(())
}

/// Verifies a username and password, with throttling. Returns the user.
pub(crate) async fn authenticate(
    db: &impl GenericClient,
    username: &str,
    password: &str,
) -> Result<User> {
    check_throttle(db, username).await?;
    let row = crate::db::query_opt(
        db,
        &format!("SELECT {USER_COLS} FROM users WHERE lower(username) = lower($1)"),
        &[&username],
    )
    .await?;
    let ok = match &row {
        Some(r) if r.get::<_, bool>("active") => {
            verify_password(password.to_owned(), r.get("password_hash")).await
        }
        _ => {
            // Spend the same time as a real check so timing doesn't reveal
            // which usernames exist.
            let _ = verify_password(password.to_owned(), dummy_hash().await).await;
            false
        }
    };
    if !ok {
        record_failure(db, username).await?;
        return Err(Error::Unauthorized(
            "the username or password is incorrect".into(),
        ));
    }
    crate::db::execute(
        db,
        "DELETE FROM login_failures WHERE username = lower($1)",
        &[&username],
    )
    .await?;
    row.map(|r| row_user(&r))
        .ok_or_else(|| Error::Unauthorized("the username or password is incorrect".into()))
}

async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async { hash_password(random_token(16)).await.unwrap_or_default() })
        .await
        .clone()
}

/// Creates a session; returns the raw cookie value.
pub(crate) async fn create_session(db: &impl GenericClient, user_id: i64) -> Result<String> {
    let token = random_token(32);
    crate::db::execute(
        db,
        &format!(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
             VALUES ($1, $2, $3, now() + interval '{SESSION_DAYS} days')"
        ),
        &[&sha256_hex(token.as_bytes()), &user_id, &random_token(24)],
    )
    .await?;
    crate::db::execute(db, "DELETE FROM sessions WHERE expires_at < now()", &[]).await?;
    Ok(token)
}

pub(crate) async fn delete_session(db: &impl GenericClient, token: &str) -> Result<()> {
    crate::db::execute(
        db,
        "DELETE FROM sessions WHERE token_hash = $1",
        &[&sha256_hex(token.as_bytes())],
    )
    .await?;
    Ok(())
}

pub(crate) async fn session_user(
    db: &impl GenericClient,
    token: &str,
) -> Result<Option<(User, String)>> {
    let hash = sha256_hex(token.as_bytes());
    let row = crate::db::query_opt(
        db,
        "SELECT u.id, u.username, u.display_name, u.user_key, u.email, s.csrf_token,
                    s.last_seen < now() - interval '5 minutes' AS stale
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active",
        &[&hash],
    )
    .await?;
    let Some(r) = row else { return Ok(None) };
    // Sliding expiry, written at most every 5 minutes per session so a
    // page view is not a database write.
    if r.get::<_, bool>("stale") {
        crate::db::execute(db,
            &format!(
                "UPDATE sessions SET last_seen = now(), expires_at = now() + interval '{SESSION_DAYS} days'
                 WHERE token_hash = $1"
            ),
            &[&hash],
        )
        .await?;
    }
    Ok(Some((row_user(&r), r.get("csrf_token"))))
}

/// A personal access token as its owner sees it (never its secret).
pub(crate) struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

const TOKEN_SELECT: &str = "SELECT id, name, created_at, expires_at, last_used FROM api_tokens";

fn token_info(r: &tokio_postgres::Row) -> TokenInfo {
    TokenInfo {
        id: r.get(0),
        name: r.get(1),
        created: r.get(2),
        expires: r.get(3),
        last_used: r.get(4),
    }
}

/// The user's tokens, oldest first.
pub(crate) async fn tokens_of(db: &impl GenericClient, user_id: i64) -> Result<Vec<TokenInfo>> {
    let rows = crate::db::query(
        db,
        &format!("{TOKEN_SELECT} WHERE user_id = $1 ORDER BY id"),
        &[&user_id],
    )
    .await?;
    Ok(rows.iter().map(token_info).collect())
}

/// Revokes one of the user's tokens; false when the user has no such token.
pub(crate) async fn revoke_token(db: &impl GenericClient, user_id: i64, id: i64) -> Result<bool> {
    let n = crate::db::execute(
        db,
        "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
        &[&id, &user_id],
    )
    .await?;
    Ok(n > 0)
}

/// Creates a personal access token; returns it and its raw secret, which
/// is shown once.
pub(crate) async fn create_token(
    db: &impl GenericClient,
    user_id: i64,
    name: &str,
    days: Option<i64>,
) -> Result<(TokenInfo, String)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::BadRequest(
            "a token needs a name of 1 to 100 characters".into(),
        ));
    }
    if let Some(d) = days {
        if !(1..=3650).contains(&d) {
            return Err(Error::BadRequest(
                "expiry must be between 1 and 3650 days".into(),
            ));
        }
    }
    let raw = format!("cairn_{}", random_token(32));
    let row = crate::db::query_one(db,
            "INSERT INTO api_tokens (user_id, name, token_hash, expires_at)
             VALUES ($1, $2, $3, CASE WHEN $4::bigint IS NULL THEN NULL ELSE now() + make_interval(days => $4::int) END)
             RETURNING id, name, created_at, expires_at, last_used",
            &[&user_id, &name, &sha256_hex(raw.as_bytes()), &days],
        )
        .await?;
    Ok((token_info(&row), raw))
}

pub(crate) async fn token_user(db: &impl GenericClient, raw: &str) -> Result<Option<User>> {
    let hash = sha256_hex(raw.as_bytes());
    let row = crate::db::query_opt(db,
            "SELECT u.id, u.username, u.display_name, u.user_key, u.email,
                    t.last_used IS NULL OR t.last_used < now() - interval '1 minute' AS stale
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.active",
            &[&hash],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    if r.get::<_, bool>("stale") {
        // Best effort: a fenced node (or read-only database) still
        // authenticates tokens for reading.
        if let Err(e) = crate::db::execute(
            db,
            "UPDATE api_tokens SET last_used = now() WHERE token_hash = $1",
            &[&hash],
        )
        .await
        {
            tracing::debug!(error = %e, "token last-used time not recorded");
        }
    }
    Ok(Some(row_user(&r)))
}

pub(crate) async fn basic_user(
    cache: &BasicCache,
    db: &impl GenericClient,
    b64: &str,
) -> Result<User> {
    let bad =
        || Error::Unauthorized("the Basic credentials are not valid base64 user:password".into());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (username, password) = text.split_once(':').ok_or_else(bad)?;
    let key: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    if let Some((hash, at)) = cache.inner.get(&key) {
        if at.elapsed() < BASIC_TTL {
            let row = crate::db::query_opt(
                db,
                &format!("SELECT {USER_COLS} FROM users WHERE lower(username) = lower($1)"),
                &[&username],
            )
            .await?;
            if let Some(r) = row {
                if r.get::<_, bool>("active") && r.get::<_, String>("password_hash") == hash {
                    return Ok(row_user(&r));
                }
            }
        }
        cache.inner.remove(&key);
    }
    let user = authenticate(db, username, password).await?;
    let hash: String = crate::db::query_one(
        db,
        "SELECT password_hash FROM users WHERE id = $1",
        &[&user.id],
    )
    .await?
    .get(0);
    cache.inner.insert(key, (hash, Instant::now()));
    Ok(user)
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolves the request's credentials: `Authorization: Basic|Bearer`, else
/// the session cookie, else anonymous. Bad explicit credentials are a 401;
/// a stale session cookie just means anonymous.
/// SHA-256 of what names the viewer of a request: the Authorization header,
/// else the session cookie (empty for anonymous requests). Keys the viewer
/// and response caches.
pub(crate) fn credentials_digest(headers: &HeaderMap) -> [u8; 32] {
    let mut h = Sha256::new();
    if let Some(a) = headers.get(header::AUTHORIZATION) {
        h.update(b"a:");
        h.update(a.as_bytes());
    } else if let Some(t) = cookie(headers, SESSION_COOKIE) {
        h.update(b"s:");
        h.update(t.as_bytes());
    }
    h.finalize().into()
}

/// Compares two secrets in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
