//! The page render a plugin call belongs to: its time budget, the
//! request's cancellation, and what its calls did to its cacheability.
//!
//! Invariant: one scope per outermost page on a thread (included pages
//! join it); once the budget is spent or the client has gone, no further
//! macro of the page is called.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::Plugins;

/// Default of the live setting `plugin_page_budget_ms`.
pub const DEFAULT_PAGE_BUDGET_MS: u32 = 3000;

/// The page render running on this thread: its plugin time budget, the
/// request's cancellation flag, and whether any plugin call read data.
struct PageScope {
    budget: Duration,
    spent: Duration,
    cancelled: Option<Arc<AtomicBool>>,
    read_data: bool,
    incomplete: bool,
}

thread_local! {
    static PAGE: std::cell::RefCell<Option<PageScope>> = const { std::cell::RefCell::new(None) };
}

/// Marks a page render on this thread (see [`Plugins::enter_page`]). Pages
/// rendered inside it (includes) share the outermost page's scope.
pub struct PageGuard {
    owner: bool,
}

impl PageGuard {
    /// Whether a plugin call of this page read content or its key-value
    /// store: the output then depends on more than the stored page, and must
    /// not be cached for other viewers.
    pub(crate) fn read_data(&self) -> bool {
        PAGE.with(|p| p.borrow().as_ref().is_some_and(|s| s.read_data))
    }

    /// Whether a macro of this page failed or was not rendered (budget
    /// spent, busy, cancelled): the page must not be cached at all, or the
    /// failure would outlive its cause.
    pub(crate) fn incomplete(&self) -> bool {
        PAGE.with(|p| p.borrow().as_ref().is_some_and(|s| s.incomplete))
    }
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        if self.owner {
            PAGE.with(|p| p.borrow_mut().take());
        }
    }
}

/// Why a macro of the page is not rendered at all.
pub(super) fn page_refusal() -> Option<&'static str> {
    PAGE.with(|p| {
        let p = p.borrow();
        let s = p.as_ref()?;
        if s.cancelled
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Some("not rendered: the request was cancelled");
        }
        (s.spent >= s.budget).then_some("not rendered: page budget spent")
    })
}

/// Plugin time left in the page's budget.
pub(super) fn page_left() -> Option<Duration> {
    PAGE.with(|p| {
        p.borrow()
            .as_ref()
            .map(|s| s.budget.saturating_sub(s.spent))
    })
}

pub(super) fn page_account(spent: Duration, read_data: bool, failed: bool) {
    PAGE.with(|p| {
        if let Some(s) = p.borrow_mut().as_mut() {
            s.spent += spent;
            s.read_data |= read_data;
            s.incomplete |= failed;
        }
    })
}

impl Plugins {
    /// Plugin time one page render may spend, in ms (live setting
    /// `plugin_page_budget_ms`); macros after that show a box instead.
    pub(crate) fn set_page_budget_ms(&self, ms: u32) {
        self.inner
            .page_budget_ms
            .store(ms.max(1), Ordering::Relaxed);
    }

    pub fn page_budget_ms(&self) -> u32 {
        self.inner.page_budget_ms.load(Ordering::Relaxed)
    }

    /// Starts a page render on this thread: plugin calls made until the
    /// guard drops share the page's time budget, and stop when `cancelled`
    /// is set (the client has gone). Nested renders (includes) join the
    /// outermost page.
    pub(crate) fn enter_page(&self, cancelled: Option<Arc<AtomicBool>>) -> PageGuard {
        let owner = PAGE.with(|p| {
            let mut p = p.borrow_mut();
            if p.is_some() {
                return false;
            }
            *p = Some(PageScope {
                budget: Duration::from_millis(u64::from(self.page_budget_ms())),
                spent: Duration::ZERO,
                cancelled,
                read_data: false,
                incomplete: false,
            });
            true
        });
        PageGuard { owner }
    }
}
