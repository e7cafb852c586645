//! The last few embeddings computed, by input. In `ORDER BY embedding <-> embed_text('...')` the
//! STABLE function runs again for every row the scan returns (the sort key is projected per
//! row), and applications repeat the same queries: with this, both cost a lookup instead of a
//! model run. Inputs above a size bound are not kept, so the memory stays small.

use lru::LruCache;
use std::borrow::Borrow;
use std::hash::Hash;
use std::num::NonZeroUsize;

/// Results by input, the least recently used dropped first.
pub struct Recent<K: Hash + Eq, V> {
    entries: LruCache<K, V>,
    max_input_bytes: usize,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    /// Keeps up to `entries` results of inputs of at most `max_input_bytes`.
    pub fn new(entries: NonZeroUsize, max_input_bytes: usize) -> Self {
        Recent {
            entries: LruCache::new(entries),
            max_input_bytes,
        }
    }

    /// The kept result for an input, if any.
    pub fn get<Q: Hash + Eq + ?Sized>(&mut self, input: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(input).cloned()
    }

    /// Keeps the result of an input of `input_bytes`, unless the input is too large.
    pub fn put(&mut self, input: K, input_bytes: usize, value: V) {
        if input_bytes <= self.max_input_bytes {
            self.entries.put(input, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_small_inputs() {
        let mut r: Recent<String, u32> = Recent::new(NonZeroUsize::new(2).unwrap(), 8);
        r.put("a".into(), 1, 1);
        r.put("b".into(), 1, 2);
        assert_eq!(r.get("a"), Some(1)); // a is now the most recent
        r.put("c".into(), 1, 3); // drops b
        assert_eq!(
            (r.get("a"), r.get("b"), r.get("c")),
            (Some(1), None, Some(3))
        );
        r.put("big".into(), 9, 4);
        assert_eq!(r.get("big"), None);
        r.put("a".into(), 1, 5);
        assert_eq!(r.get("a"), Some(5));
    }
}
