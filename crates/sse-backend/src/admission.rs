//! Overload protection: per-user and global limits on concurrent streams, the
//! failover queue, and an optional per-user rate limit.
//!
//! The queue is first come, first served: when a slot frees, the earliest waiter
//! whose user is under the limits gets it (a waiter whose user is at its own limit
//! does not block the others). The order lives in the backend QUEUE_TYPE selects:
//! in this process, or with `redis` (and a REDIS_URL) in a Redis list named
//! [`Admission::redis_queue_key`], one per service instance, where operators and
//! other tools can read it. A request that cannot reach Redis waits in-process.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::cache::RedisStore;

#[derive(Debug, Default)]
struct Counts {
    global: usize,
    per_user: HashMap<String, usize>,
    waiting: usize,
}

/// Where a queued request's place is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueBackend {
    InProcess,
    Redis,
}

impl QueueBackend {
    pub fn name(self) -> &'static str {
        match self {
            Self::InProcess => "in-process",
            Self::Redis => "redis",
        }
    }
}

#[derive(Debug)]
pub struct Admission {
    per_user_limit: usize,
    global_limit: usize,
    queue_capacity: usize,
    rate_per_minute: Option<u32>,
    counts: Mutex<Counts>,
    /// Waiters kept in this process, in arrival order: (ticket, user).
    local_order: Mutex<VecDeque<(u64, String)>>,
    /// Each waiter's own wake-up, by ticket.
    wakers: Mutex<HashMap<u64, Arc<Notify>>>,
    next_ticket: AtomicU64,
    redis: Option<Arc<RedisStore>>,
    redis_key: String,
    recent: Mutex<RecentRequests>,
}

/// Most users the rate limiter follows at once. Beyond it (this many distinct
/// users within one minute), a new user is refused until entries expire: the
/// map must not grow with a flood of made-up ids.
pub const MAX_RATE_LIMITED_USERS: usize = 50_000;
/// The rate limiter's window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Each user's request times within the last window.
#[derive(Debug, Default)]
struct RecentRequests {
    by_user: HashMap<String, VecDeque<Instant>>,
    /// When the map was last swept of users idle for a whole window.
    swept: Option<Instant>,
}

impl RecentRequests {
    /// Drops users with no request in the window (they carry nothing); at most
    /// once a second, or at once when the map is full.
    fn sweep(&mut self, now: Instant) {
        let full = self.by_user.len() >= MAX_RATE_LIMITED_USERS;
        if !full
            && self
                .swept
                .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.swept = Some(now);
        self.by_user.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < RATE_WINDOW)
        });
        if self.by_user.capacity() > 2 * self.by_user.len().max(1024) {
            self.by_user.shrink_to_fit();
        }
    }
}

/// A stream slot; dropping it frees the slot and hands it to the next waiter.
#[derive(Debug)]
pub struct Permit {
    admission: Arc<Admission>,
    user: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.admission.counts.lock() {
            counts.global = counts.global.saturating_sub(1);
            if let Some(n) = counts.per_user.get_mut(&self.user) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.per_user.remove(&self.user);
                }
            }
        }
        self.admission.hand_over();
    }
}

/// A place in the failover queue (counts against its capacity).
#[derive(Debug)]
pub struct QueuePlace {
    admission: Arc<Admission>,
}

impl Drop for QueuePlace {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.admission.counts.lock() {
            counts.waiting = counts.waiting.saturating_sub(1);
        }
    }
}

/// A waiter's entry in the order; removed when the waiter leaves for any reason.
struct WaiterEntry {
    admission: Arc<Admission>,
    ticket: u64,
    entry: String,
    backend: QueueBackend,
}

impl Drop for WaiterEntry {
    fn drop(&mut self) {
        if let Ok(mut wakers) = self.admission.wakers.lock() {
            wakers.remove(&self.ticket);
        }
        match self.backend {
            QueueBackend::InProcess => {
                if let Ok(mut order) = self.admission.local_order.lock() {
                    order.retain(|(ticket, _)| *ticket != self.ticket);
                }
                self.admission.hand_over();
            }
            QueueBackend::Redis => {
                let (admission, entry) =
                    (Arc::clone(&self.admission), std::mem::take(&mut self.entry));
                spawn(async move {
                    if let Some(redis) = &admission.redis {
                        let _ = redis.remove(&admission.redis_key, &entry).await;
                    }
                    admission.dispatch().await;
                });
            }
        }
    }
}

fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(task);
    }
}

fn parse_entry(entry: &str) -> Option<(u64, String)> {
    let (ticket, user) = entry.split_once(':')?;
    Some((ticket.parse().ok()?, user.to_owned()))
}

impl Admission {
    pub fn new(
        per_user_limit: usize,
        global_limit: usize,
        queue_capacity: usize,
        rate_per_minute: Option<u32>,
        redis: Option<Arc<RedisStore>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            per_user_limit: per_user_limit.max(1),
            global_limit: global_limit.max(1),
            queue_capacity,
            rate_per_minute,
            counts: Mutex::default(),
            local_order: Mutex::default(),
            wakers: Mutex::default(),
            next_ticket: AtomicU64::new(1),
            redis,
            redis_key: format!("sse:failover-queue:{}", uuid::Uuid::new_v4()),
            recent: Mutex::default(),
        })
    }

    pub fn global_limit(&self) -> usize {
        self.global_limit
    }

    /// The Redis list holding this instance's queue order (with QUEUE_TYPE redis).
    pub fn redis_queue_key(&self) -> &str {
        &self.redis_key
    }

    /// The backend a request queued now would use.
    pub fn backend_for(&self, queue_type_is_redis: bool) -> QueueBackend {
        if queue_type_is_redis && self.redis.is_some() {
            QueueBackend::Redis
        } else {
            QueueBackend::InProcess
        }
    }

    pub fn queue_depth(&self) -> usize {
        self.counts.lock().map_or(0, |c| c.waiting)
    }

    fn can_admit(&self, user: &str) -> bool {
        self.counts.lock().is_ok_and(|counts| {
            counts.global < self.global_limit
                && counts.per_user.get(user).copied().unwrap_or(0) < self.per_user_limit
        })
    }

    /// A slot now, if both limits allow it.
    pub fn try_acquire(self: &Arc<Self>, user: &str) -> Option<Permit> {
        let mut counts = self.counts.lock().ok()?;
        let mine = counts.per_user.get(user).copied().unwrap_or(0);
        if counts.global >= self.global_limit || mine >= self.per_user_limit {
            return None;
        }
        counts.global += 1;
        *counts.per_user.entry(user.to_owned()).or_default() += 1;
        Some(Permit {
            admission: Arc::clone(self),
            user: user.to_owned(),
        })
    }

    /// All waiters in order: those kept in Redis first (they queued through it),
    /// then those kept in this process.
    async fn order(&self) -> Vec<(u64, String)> {
        let mut order = Vec::new();
        if let Some(redis) = &self.redis {
            if let Ok(entries) = redis.list(&self.redis_key).await {
                order.extend(entries.iter().filter_map(|e| parse_entry(e)));
            }
        }
        if let Ok(local) = self.local_order.lock() {
            order.extend(local.iter().cloned());
        }
        order
    }

    /// The earliest waiter the limits admit now.
    async fn next_admissible(&self) -> Option<u64> {
        let order = self.order().await;
        order
            .into_iter()
            .find(|(_, user)| self.can_admit(user))
            .map(|(ticket, _)| ticket)
    }

    /// Wakes the earliest admissible waiter.
    async fn dispatch(&self) {
        if let Some(ticket) = self.next_admissible().await {
            let waker = self
                .wakers
                .lock()
                .ok()
                .and_then(|w| w.get(&ticket).cloned());
            if let Some(waker) = waker {
                waker.notify_one();
            }
        }
    }

    /// After a slot or a place in the order is freed.
    fn hand_over(self: &Arc<Self>) {
        let admission = Arc::clone(self);
        spawn(async move { admission.dispatch().await });
    }

    /// Waits in the queue (kept in `backend`) for a slot; `None` after `timeout`.
    /// Returns the backend that really kept the place (Redis may be unreachable).
    pub async fn acquire_within(
        self: &Arc<Self>,
        user: &str,
        timeout: Duration,
        backend: QueueBackend,
    ) -> (Option<Permit>, QueueBackend) {
        let deadline = tokio::time::Instant::now() + timeout;
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let entry = format!("{ticket}:{user}");
        let waker = Arc::new(Notify::new());
        if let Ok(mut wakers) = self.wakers.lock() {
            wakers.insert(ticket, Arc::clone(&waker));
        }
        let kept_in_redis = match (backend, &self.redis) {
            (QueueBackend::Redis, Some(redis)) => {
                redis.push_back(&self.redis_key, &entry).await.is_ok()
            }
            _ => false,
        };
        let backend = if kept_in_redis {
            QueueBackend::Redis
        } else {
            if let Ok(mut order) = self.local_order.lock() {
                order.push_back((ticket, user.to_owned()));
            }
            QueueBackend::InProcess
        };
        let _entry = WaiterEntry {
            admission: Arc::clone(self),
            ticket,
            entry,
            backend,
        };
        loop {
            let woken = waker.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.next_admissible().await == Some(ticket) {
                if let Some(permit) = self.try_acquire(user) {
                    return (Some(permit), backend);
                }
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return (None, backend);
            }
        }
    }

    /// A place in the queue, unless it is full.
    pub fn enter_queue(self: &Arc<Self>) -> Option<QueuePlace> {
        let mut counts = self.counts.lock().ok()?;
        if counts.waiting >= self.queue_capacity {
            return None;
        }
        counts.waiting += 1;
        Some(QueuePlace {
            admission: Arc::clone(self),
        })
    }

    /// `Err(seconds to wait)` when `user` exceeded the per-minute rate.
    pub fn check_rate(&self, user: &str) -> Result<(), u64> {
        let Some(limit) = self.rate_per_minute else {
            return Ok(());
        };
        let now = Instant::now();
        let window = RATE_WINDOW;
        let Ok(mut recent) = self.recent.lock() else {
            return Ok(());
        };
        recent.sweep(now);
        if !recent.by_user.contains_key(user) && recent.by_user.len() >= MAX_RATE_LIMITED_USERS {
            return Err(1);
        }
        let times = recent.by_user.entry(user.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= limit as usize {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: QueueBackend = QueueBackend::InProcess;

    #[test]
    fn the_rate_limiter_forgets_users_idle_for_a_window_and_stays_bounded() {
        let now = Instant::now();
        let Some(old) = now.checked_sub(RATE_WINDOW + Duration::from_secs(1)) else {
            return; // a machine up for less than a minute cannot make an old instant
        };
        let mut recent = RecentRequests::default();
        for i in 0..1_000 {
            recent
                .by_user
                .insert(format!("gone-{i}"), VecDeque::from([old]));
        }
        recent
            .by_user
            .insert("active".into(), VecDeque::from([old, now]));
        recent.sweep(now);
        assert_eq!(recent.by_user.len(), 1, "only the active user is kept");
        assert!(recent.by_user.contains_key("active"));

        // A full map refuses newcomers, but not users it already follows.
        let admission = Admission::new(10, 10, 10, Some(100), None);
        {
            let mut recent = admission.recent.lock().expect("lock");
            for i in 0..MAX_RATE_LIMITED_USERS {
                recent
                    .by_user
                    .insert(format!("u{i}"), VecDeque::from([now]));
            }
        }
        assert_eq!(admission.check_rate("newcomer"), Err(1));
        assert_eq!(admission.check_rate("u7"), Ok(()));
        assert_eq!(
            admission.recent.lock().expect("lock").by_user.len(),
            MAX_RATE_LIMITED_USERS
        );
    }

    #[tokio::test]
    async fn limits_per_user_and_global_and_queue_delivery() {
        let admission = Admission::new(2, 3, 1, None, None);
        let a1 = admission.try_acquire("a").expect("first");
        let _a2 = admission.try_acquire("a").expect("second");
        assert!(admission.try_acquire("a").is_none(), "per-user limit");
        let _b1 = admission.try_acquire("b").expect("other user");
        assert!(admission.try_acquire("c").is_none(), "global limit");

        let place = admission.enter_queue().expect("queue has room");
        assert!(admission.enter_queue().is_none(), "queue full");
        let waiter = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move {
                admission
                    .acquire_within("c", Duration::from_secs(5), LOCAL)
                    .await
                    .0
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(a1);
        let _c1 = waiter
            .await
            .expect("task")
            .expect("a freed slot goes to the waiter");
        drop(place);
        assert_eq!(admission.queue_depth(), 0);
        let (permit, _) = admission
            .acquire_within("d", Duration::from_millis(30), LOCAL)
            .await;
        assert!(permit.is_none(), "times out");
    }

    #[tokio::test]
    async fn waiters_are_served_first_come_first_served() {
        let admission = Admission::new(10, 1, 10, None, None);
        let held = admission.try_acquire("x").expect("slot");
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..4 {
            let (admission, served) = (Arc::clone(&admission), Arc::clone(&served));
            waiters.push(tokio::spawn(async move {
                let (permit, _) = admission
                    .acquire_within(&format!("u{i}"), Duration::from_secs(5), LOCAL)
                    .await;
                served.lock().expect("lock").push(i);
                // Hold the slot briefly, then pass it on.
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(permit);
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        for waiter in waiters {
            waiter.await.expect("task");
        }
        assert_eq!(*served.lock().expect("lock"), vec![0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn a_waiter_at_its_own_limit_does_not_block_the_queue() {
        let admission = Admission::new(1, 2, 10, None, None);
        let _a = admission.try_acquire("a").expect("a's only slot");
        let b = admission.try_acquire("b").expect("second global slot");
        let first = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move {
                admission
                    .acquire_within("a", Duration::from_millis(300), LOCAL)
                    .await
                    .0
                    .is_some()
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move {
                admission
                    .acquire_within("c", Duration::from_secs(5), LOCAL)
                    .await
                    .0
                    .is_some()
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(b);
        assert!(
            second.await.expect("task"),
            "c gets b's slot although a queued first"
        );
        assert!(!first.await.expect("task"), "a stays at its own limit");
    }

    #[test]
    fn rate_limit_answers_retry_after() {
        let admission = Admission::new(10, 10, 10, Some(2), None);
        assert_eq!(admission.check_rate("u"), Ok(()));
        assert_eq!(admission.check_rate("u"), Ok(()));
        let wait = admission.check_rate("u").expect_err("third in a minute");
        assert!((1..=60).contains(&wait));
        assert_eq!(admission.check_rate("other"), Ok(()));
    }
}
