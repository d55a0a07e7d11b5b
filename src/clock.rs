//! Where the vault reads the time: the wall time its entries and facts are dated with, and the
//! monotonic time its idle timer counts.
//!
//! An application always gets the system's clocks. Tests built with the `test-clock` feature
//! may hand a vault a [`TestClock`] instead, which moves only when told, so that a consent
//! revoked "at 10:00" can be tried against a read "at 10:01" and an idle timeout passes without
//! sleeping. The feature is off by default: no application can backdate entries by accident.

use std::time::{Duration, Instant};

/// The vault's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system's wall clock and monotonic clock.
    #[default]
    System,
    /// A clock the tests move by hand.
    #[cfg(feature = "test-clock")]
    Test(TestClock),
}

/// A point on the clock's monotonic scale, for the idle timer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tick {
    System(Instant),
    #[cfg(feature = "test-clock")]
    Test(u64),
}

impl Clock {
    /// Wall time in unix milliseconds (0 if the system clock is before 1970).
    pub(crate) fn now_ms(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            #[cfg(feature = "test-clock")]
            Clock::Test(t) => t.now_ms(),
        }
    }

    /// Whether time passes on its own (the system's clocks), or only when a test moves it.
    pub(crate) fn moves_by_itself(&self) -> bool {
        matches!(self, Clock::System)
    }

    /// Now, on the monotonic scale.
    pub(crate) fn tick(&self) -> Tick {
        match self {
            Clock::System => Tick::System(Instant::now()),
            #[cfg(feature = "test-clock")]
            Clock::Test(t) => Tick::Test(t.elapsed_ms()),
        }
    }

    /// How long since `then`, on the monotonic scale (zero for a tick of another clock).
    pub(crate) fn since(&self, then: Tick) -> Duration {
        match (self, then) {
            (Clock::System, Tick::System(at)) => at.elapsed(),
            #[cfg(feature = "test-clock")]
            (Clock::Test(t), Tick::Test(at)) => {
                Duration::from_millis(t.elapsed_ms().saturating_sub(at))
            }
            #[cfg(feature = "test-clock")]
            _ => Duration::ZERO,
        }
    }
}

#[cfg(feature = "test-clock")]
pub use test_clock::TestClock;

#[cfg(feature = "test-clock")]
mod test_clock {
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
    use std::time::Duration;

    struct Time {
        /// Wall time, unix milliseconds.
        wall_ms: AtomicI64,
        /// Milliseconds advanced since the clock was made (the monotonic scale).
        elapsed_ms: AtomicU64,
    }

    /// A clock that moves only when told (the `test-clock` feature). Cheap to copy; every copy
    /// reads and moves the same time.
    #[derive(Clone, Copy)]
    pub struct TestClock(&'static Time);

    impl TestClock {
        /// A clock standing at `wall_ms` (unix milliseconds). Each one lives as long as the
        /// process, as a test's clock does.
        pub fn starting_at(wall_ms: i64) -> Self {
            TestClock(Box::leak(Box::new(Time {
                wall_ms: AtomicI64::new(wall_ms),
                elapsed_ms: AtomicU64::new(0),
            })))
        }

        /// Move both scales forward by `by`.
        pub fn advance(&self, by: Duration) {
            let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            self.0.elapsed_ms.fetch_add(ms, Ordering::SeqCst);
            let wall = i64::try_from(ms).unwrap_or(i64::MAX);
            self.0.wall_ms.fetch_add(wall, Ordering::SeqCst);
        }

        /// Set the wall time to `wall_ms`, forward or back (a machine whose clock was set
        /// wrong); the monotonic scale does not move.
        pub fn set_wall_ms(&self, wall_ms: i64) {
            self.0.wall_ms.store(wall_ms, Ordering::SeqCst);
        }

        /// The wall time, unix milliseconds.
        pub fn now_ms(&self) -> i64 {
            self.0.wall_ms.load(Ordering::SeqCst)
        }

        pub(crate) fn elapsed_ms(&self) -> u64 {
            self.0.elapsed_ms.load(Ordering::SeqCst)
        }
    }

    impl PartialEq for TestClock {
        fn eq(&self, other: &Self) -> bool {
            std::ptr::eq(self.0, other.0)
        }
    }

    impl Eq for TestClock {}

    impl std::fmt::Debug for TestClock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "TestClock({} ms)", self.now_ms())
        }
    }
}
