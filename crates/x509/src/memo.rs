//! A bounded, process-wide memory of results that are pure functions of some bytes, keyed by
//! a SHA-256 over those bytes. It only ever saves work: what it returns is what computing
//! again would give. When full it starts over rather than track use.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Up to `capacity` values by key.
pub(crate) struct Memo<V> {
    map: OnceLock<Mutex<HashMap<[u8; 32], V>>>,
    capacity: usize,
}

impl<V: Clone> Memo<V> {
    /// An empty memory that holds at most `capacity` values.
    pub(crate) const fn new(capacity: usize) -> Self {
        Memo {
            map: OnceLock::new(),
            capacity,
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<[u8; 32], V>> {
        // A poisoned lock only means a panic elsewhere between two whole operations on the
        // map; every entry in it is still a whole, correct value.
        self.map
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The value remembered for `key`.
    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<V> {
        self.map().get(key).cloned()
    }

    /// Remembers `value` for `key`.
    pub(crate) fn insert(&self, key: [u8; 32], value: V) {
        let mut map = self.map();
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, value);
    }
}
