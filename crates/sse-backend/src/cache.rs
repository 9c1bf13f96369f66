//! The answer cache: L1 in memory (bounded, with a lifetime) and L2 in Redis when
//! `REDIS_URL` is given. Keys are derived from (query, model, provider).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Time limit of one Redis operation: a slow Redis must not stall streams.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// The cache key of a request.
pub fn key(query: &str, model: &str, provider: Option<&str>) -> String {
    // FNV-1a over the three parts with separators; keys stay short in Redis.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [query, "\u{1f}", model, "\u{1f}", provider.unwrap_or("")] {
        for byte in part.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("sse:answer:{hash:016x}:{}", query.len())
}

/// Cached text with the time it was stored, and keys in insertion order.
type Entries = (HashMap<String, (String, Instant)>, VecDeque<String>);

/// Bounded in-memory cache; the oldest entry goes first when full.
#[derive(Debug)]
pub struct L1Cache {
    capacity: usize,
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl L1Cache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity,
            ttl,
            entries: Mutex::default(),
        }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let mut entries = self.entries.lock().ok()?;
        let (map, _) = &mut *entries;
        match map.get(key) {
            Some((text, stored)) if stored.elapsed() < self.ttl => Some(text.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: String, text: String) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let (map, order) = &mut *entries;
        if map.insert(key.clone(), (text, Instant::now())).is_none() {
            order.push_back(key);
        }
        // Expired entries leave their key in `order`; drop such leftovers before
        // they outnumber the live entries.
        if order.len() > 2 * self.capacity {
            order.retain(|k| map.contains_key(k));
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(oldest) => {
                    map.remove(&oldest);
                }
                None => break,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.0.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.0.clear();
            entries.1.clear();
        }
    }
}

/// Redis: the L2 cache and, with QUEUE_TYPE redis, the failover queue's order.
/// The connection is made on first use and remade after Redis comes back, so the
/// service starts and runs while Redis is down.
pub struct RedisStore {
    client: redis::Client,
    ttl: Duration,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    pub fn new(url: &str, ttl: Duration) -> Result<Self, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("invalid REDIS_URL {url:?}: {e}"))?;
        Ok(Self {
            client,
            ttl,
            connection: tokio::sync::Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT)
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            REDIS_TIMEOUT * 2,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| "Redis did not answer in time".to_owned())?
        .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, String> {
        let mut connection = self.connection().await?;
        match tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                    // Start afresh next time.
                    *self.connection.lock().await = None;
                }
                Err(format!("Redis error: {e}"))
            }
            Err(_) => Err("Redis did not answer in time".to_owned()),
        }
    }

    pub async fn ping(&self) -> Result<(), String> {
        self.run::<String>(redis::cmd("PING")).await.map(|_| ())
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, String> {
        let mut command = redis::cmd("GET");
        command.arg(key);
        self.run(command).await
    }

    pub async fn put(&self, key: &str, text: &str) -> Result<(), String> {
        let mut command = redis::cmd("SET");
        command
            .arg(key)
            .arg(text)
            .arg("EX")
            .arg(self.ttl.as_secs().max(1));
        self.run::<()>(command).await
    }

    /// Keys in the database (for /health/detailed).
    pub async fn size(&self) -> Result<u64, String> {
        self.run(redis::cmd("DBSIZE")).await
    }

    pub async fn push_back(&self, list: &str, value: &str) -> Result<(), String> {
        let mut command = redis::cmd("RPUSH");
        command.arg(list).arg(value);
        self.run::<u64>(command).await.map(|_| ())
    }

    pub async fn remove(&self, list: &str, value: &str) -> Result<(), String> {
        let mut command = redis::cmd("LREM");
        command.arg(list).arg(1).arg(value);
        self.run::<u64>(command).await.map(|_| ())
    }

    pub async fn list(&self, list: &str) -> Result<Vec<String>, String> {
        let mut command = redis::cmd("LRANGE");
        command.arg(list).arg(0).arg(-1);
        self.run(command).await
    }

    pub async fn list_len(&self, list: &str) -> Result<u64, String> {
        let mut command = redis::cmd("LLEN");
        command.arg(list);
        self.run(command).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_is_bounded_and_expires() {
        let cache = L1Cache::new(2, Duration::from_secs(60));
        cache.put("a".into(), "1".into());
        cache.put("b".into(), "2".into());
        cache.put("c".into(), "3".into());
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("a"), None, "oldest evicted");
        assert_eq!(cache.get("c").as_deref(), Some("3"));
        let expiring = L1Cache::new(2, Duration::ZERO);
        expiring.put("a".into(), "1".into());
        assert_eq!(expiring.get("a"), None);
    }

    #[test]
    fn keys_differ_by_every_part() {
        let base = key("q", "m", Some("p"));
        assert_ne!(base, key("q", "m", None));
        assert_ne!(base, key("q", "m2", Some("p")));
        assert_ne!(base, key("q2", "m", Some("p")));
        assert_eq!(base, key("q", "m", Some("p")));
    }
}
