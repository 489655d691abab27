//! "Share": a reader sends a page to chosen people with a note. Each is
//! named by username or e-mail address and must be able to see the page:
//! a share never tells anyone a title they may not read. An address that
//! belongs to no account gets the mail only when anonymous readers may see
//! the page (it is checked again, as an anonymous reader, when it is sent).
//!
//! Invariant: checks everything before it records anything; the event goes
//! through the outbox like every other, so delivery (in-app and e-mail,
//! per the recipient's preference) is the same cluster job.

use deadpool_postgres::GenericClient;

use crate::content;
use crate::error::{Error, Result};
use crate::perms::Viewer;

/// The most people one share reaches.
pub(crate) const MAX_RECIPIENTS: usize = 20;
/// The longest note.
pub(crate) const MAX_NOTE: usize = 2000;

/// Shares `page_id` with `to` (usernames or e-mail addresses, separated by
/// commas, semicolons or spaces); returns the display names (and, for
/// addresses without an account, the addresses) reached.
pub(crate) async fn share(
    db: &impl GenericClient,
    viewer: &Viewer,
    page_id: i64,
    to: &str,
    note: &str,
) -> Result<Vec<String>> {
    let me = viewer.require_user()?.clone();
    let page = content::get(db, viewer, page_id).await?;
    let names: Vec<&str> = to
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(Error::BadRequest(
            "name at least one person to share with (username or e-mail address)".into(),
        ));
    }
    if names.len() > MAX_RECIPIENTS {
        return Err(Error::BadRequest(format!(
            "a page can be shared with at most {MAX_RECIPIENTS} people at once"
        )));
    }
    if note.chars().count() > MAX_NOTE {
        return Err(Error::BadRequest(format!(
            "the note is longer than {MAX_NOTE} characters"
        )));
    }
    let mut ids = Vec::new();
    let mut guests: Vec<String> = Vec::new();
    let mut reached = Vec::new();
    let mut anonymous: Option<bool> = None;
    for name in names {
        let row = crate::db::query_opt(
            db,
            "SELECT id FROM users WHERE active AND (lower(username) = lower($1)
                 OR (position('@' in $1) > 0 AND lower(email) = lower($1)))
             ORDER BY lower(username) = lower($1) DESC LIMIT 1",
            &[&name],
        )
        .await?;
        let Some(uid) = row.map(|r| r.get::<_, i64>(0)) else {
            if !name.contains('@') {
                return Err(Error::BadRequest(format!(
                    "nobody here has the username {name:?}"
                )));
            }
            let addr = guest_address(name)?;
            let public = match anonymous {
                Some(p) => p,
                None => {
                    let anon = Viewer::load(db, None).await?;
                    let p = content::get(db, &anon, page_id).await.is_ok();
                    anonymous = Some(p);
                    p
                }
            };
            if !public {
                return Err(Error::BadRequest(format!(
                    "nobody here has the e-mail address {addr:?}, and only people with an account may see this page; share it with an address that has one"
                )));
            }
            if !guests.contains(&addr) {
                reached.push(addr.clone());
                guests.push(addr);
            }
            continue;
        };
        let Some(user) = super::fanout::active_user(db, uid).await? else {
            continue;
        };
        if uid == me.id {
            return Err(Error::BadRequest(
                "you cannot share a page with yourself".into(),
            ));
        }
        let theirs = Viewer::load(db, Some(user.clone())).await?;
        if content::get(db, &theirs, page_id).await.is_err() {
            return Err(Error::BadRequest(format!(
                "{} cannot see this page; change its restrictions first",
                user.display_name
            )));
        }
        if !ids.contains(&uid) {
            ids.push(uid);
            reached.push(user.display_name);
        }
    }
    super::outbox::record_share(db, page.id, page.version, me.id, &ids, &guests, note.trim())
        .await?;
    Ok(reached)
}

/// An address typed for a share, checked and lower-cased (the key that
/// makes one share reach an address once).
fn guest_address(name: &str) -> Result<String> {
    let addr = name.trim_matches(['<', '>']).to_lowercase();
    match addr.parse::<lettre::Address>() {
        Ok(_) if addr.len() <= 254 => Ok(addr),
        _ => Err(Error::BadRequest(format!(
            "{name:?} is not an e-mail address"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::guest_address;

    #[test]
    fn addresses_are_checked_and_lower_cased() {
        assert_eq!(guest_address("Pat@Example.COM").unwrap(), "pat@example.com");
        assert_eq!(guest_address("<a@b.org>").unwrap(), "a@b.org");
        for bad in ["@example.com", "pat@", "pat@@x", "a b@c.d"] {
            assert!(guest_address(bad).is_err(), "{bad}");
        }
    }
}
