//! Time as a guest sees it: frozen clocks and no way to wait.
//!
//! Invariant: a guest can neither read the time nor sleep; every clock
//! subscription is ready at once, so no wait runs in the host where the
//! epoch deadline could not interrupt it.

use std::time::Duration;

use wasmtime::component::{Linker, ResourceTable};

use super::HostState;

/// A pollable that is ready at once.
pub(super) struct Ready;

impl wasmtime_wasi::p2::Pollable for Ready {
    fn ready<'a, 'b>(
        &'a mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

/// Guests get no way to wait: time stands still for them (frozen clocks), so
/// every clock subscription (`sleep`, a poll with a timeout) is ready at
/// once. A blocking wait would run in the host, where the epoch deadline
/// cannot interrupt it.
pub(super) fn no_sleeping(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::component::Resource;
    use wasmtime_wasi::p2::DynPollable;
    fn ready(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
        let r = table.push(Ready)?;
        wasmtime_wasi::p2::subscribe(table, r)
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: wasmtime::StoreContextMut<'_, HostState>, (_,): (u64,)| {
            Ok((ready(&mut store.data_mut().table)?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: wasmtime::StoreContextMut<'_, HostState>, (_,): (u64,)| {
            Ok((ready(&mut store.data_mut().table)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The name wasmtime-wasi defines the monotonic clock under (guests built
/// against any 0.2.x resolve to it).
pub(super) const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Plugins get no clock: time stands still at the epoch.
pub(super) struct FrozenWallClock;

impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

pub(super) struct FrozenMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}
