//! Capability `people`: profiles and contributors, read as the call's
//! viewer (`users::by_key_or_name`, `content::contributors`).
//!
//! Invariant: every query goes through [`HostState::read`] like the
//! `content` reads — counted, bounded by the call's deadline, and recorded
//! for the output cache's replay; a bad argument is the guest's error, not
//! a trap.

use super::bindings::cairn::plugin::people::{
    Contributor, ContributorQuery as WitQuery, Host, Profile,
};
use super::reads::Read;
use super::HostState;
use crate::content::contributors::{ContributorQuery, Scope};

fn clean(v: Vec<String>, f: fn(&str) -> String) -> Vec<String> {
    let mut v: Vec<String> = v
        .iter()
        .map(|s| f(s.trim()))
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The host's query for the guest's, or what is wrong with it.
fn convert(q: WitQuery) -> Result<ContributorQuery, String> {
    let scope = Scope::parse(&q.scope)
        .ok_or_else(|| format!("scope: {:?} is not \"\", children or descendants", q.scope))?;
    let include = clean(q.include, str::to_lowercase);
    for i in &include {
        if !["authors", "comments", "watches", "labels"].contains(&i.as_str()) {
            return Err(format!(
                "include: {i:?} is not authors, comments or watches"
            ));
        }
    }
    let has = |k: &str| include.iter().any(|i| i == k);
    let mut pages = q.page_ids;
    pages.sort_unstable();
    pages.dedup();
    Ok(ContributorQuery {
        pages,
        scope,
        spaces: clean(q.space_keys, str::to_uppercase),
        labels: clean(q.labels, str::to_lowercase),
        // Cairn does not record who added a label: "labels" counts nobody.
        edits: include.is_empty() || has("authors"),
        comments: has("comments"),
        watches: has("watches"),
        limit: q.limit.min(1000),
    })
}

impl Host for HostState {
    fn person(&mut self, who: String) -> wasmtime::Result<Option<Profile>> {
        self.read(Read::Profile(who.trim().to_owned()))
    }

    fn contributors(
        &mut self,
        query: WitQuery,
    ) -> wasmtime::Result<Result<Vec<Contributor>, String>> {
        match convert(query) {
            Ok(q) => Ok(Ok(self.read(Read::Contributors(q))?)),
            Err(e) => {
                self.tick()?;
                Ok(Err(e))
            }
        }
    }
}
