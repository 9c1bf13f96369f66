//! Overload protection: per-user and global limits on concurrent streams, the
//! failover queue's capacity, and an optional per-user rate limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Counts {
    global: usize,
    per_user: HashMap<String, usize>,
    waiting: usize,
}

#[derive(Debug)]
pub struct Admission {
    per_user_limit: usize,
    global_limit: usize,
    queue_capacity: usize,
    rate_per_minute: Option<u32>,
    counts: Mutex<Counts>,
    /// Woken whenever a stream slot frees.
    freed: Notify,
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// A stream slot; dropping it frees the slot and wakes queued requests.
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
        self.admission.freed.notify_waiters();
    }
}

/// A place in the failover queue.
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

impl Admission {
    pub fn new(
        per_user_limit: usize,
        global_limit: usize,
        queue_capacity: usize,
        rate_per_minute: Option<u32>,
    ) -> Arc<Self> {
        Arc::new(Self {
            per_user_limit: per_user_limit.max(1),
            global_limit: global_limit.max(1),
            queue_capacity,
            rate_per_minute,
            counts: Mutex::default(),
            freed: Notify::new(),
            recent: Mutex::default(),
        })
    }

    pub fn global_limit(&self) -> usize {
        self.global_limit
    }

    pub fn queue_depth(&self) -> usize {
        self.counts.lock().map_or(0, |c| c.waiting)
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

    /// Waits for a slot; `None` after `timeout`.
    pub async fn acquire_within(self: &Arc<Self>, user: &str, timeout: Duration) -> Option<Permit> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register for the wake-up before looking, so a slot freed in between is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(permit) = self.try_acquire(user) {
                return Some(permit);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
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
        let window = Duration::from_secs(60);
        let Ok(mut recent) = self.recent.lock() else {
            return Ok(());
        };
        let times = recent.entry(user.to_owned()).or_default();
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

    #[tokio::test]
    async fn limits_per_user_and_global_and_queue_delivery() {
        let admission = Admission::new(2, 3, 1, None);
        let a1 = admission.try_acquire("a").expect("first");
        let _a2 = admission.try_acquire("a").expect("second");
        assert!(admission.try_acquire("a").is_none(), "per-user limit");
        let _b1 = admission.try_acquire("b").expect("other user");
        assert!(admission.try_acquire("c").is_none(), "global limit");

        let place = admission.enter_queue().expect("queue has room");
        assert!(admission.enter_queue().is_none(), "queue full");
        let waiter = {
            let admission = Arc::clone(&admission);
            tokio::spawn(async move { admission.acquire_within("c", Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(a1);
        let _c1 = waiter
            .await
            .expect("task")
            .expect("a freed slot goes to the waiter");
        drop(place);
        assert_eq!(admission.queue_depth(), 0);
        assert!(
            admission
                .acquire_within("d", Duration::from_millis(30))
                .await
                .is_none(),
            "times out"
        );
    }

    #[test]
    fn rate_limit_answers_retry_after() {
        let admission = Admission::new(10, 10, 10, Some(2));
        assert_eq!(admission.check_rate("u"), Ok(()));
        assert_eq!(admission.check_rate("u"), Ok(()));
        let wait = admission.check_rate("u").expect_err("third in a minute");
        assert!((1..=60).contains(&wait));
        assert_eq!(admission.check_rate("other"), Ok(()));
    }
}
