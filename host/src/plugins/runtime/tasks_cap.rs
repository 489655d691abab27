//! Capability `tasks`: the task index read as the call's viewer
//! (`content::task_index::query`, permission-filtered in SQL).
//!
//! Invariant: every query goes through [`HostState::read`] like the
//! `content` reads — counted, bounded by the call's deadline, and recorded
//! for the output cache's replay; a bad argument is the guest's error, not
//! a trap.

use super::bindings::cairn::plugin::tasks::{Host, Task, TaskQuery as WitQuery};
use super::reads::Read;
use super::HostState;
use crate::content::task_index::{TaskQuery, TaskSort};

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
fn convert(q: WitQuery) -> Result<TaskQuery, String> {
    let created_from = match q.created_from.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| format!("created-from: {d:?} is not a date (YYYY-MM-DD)"))?,
        ),
    };
    let sort = TaskSort::parse(&q.sort_by)
        .ok_or_else(|| format!("sort-by: {:?} is not a field tasks sort by", q.sort_by))?;
    let mut pages = q.page_ids;
    pages.sort_unstable();
    pages.dedup();
    Ok(TaskQuery {
        spaces: clean(q.space_keys, str::to_uppercase),
        pages,
        labels: clean(q.labels, str::to_lowercase),
        assignees: clean(q.assignees, str::to_owned),
        created_from,
        complete: q.complete,
        sort,
        descending: q.descending,
        limit: q.limit.min(1000),
    })
}

impl Host for HostState {
    fn query(&mut self, query: WitQuery) -> wasmtime::Result<Result<Vec<Task>, String>> {
        match convert(query) {
            Ok(q) => Ok(Ok(self.read(Read::Tasks(q))?)),
            Err(e) => {
                self.tick()?;
                Ok(Err(e))
            }
        }
    }
}
