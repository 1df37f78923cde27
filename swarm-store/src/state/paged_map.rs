//! An ordered map of string keys kept in shared pages, so a snapshot's copy is cheap and the
//! writes that follow it stay cheap too.
//!
//! A snapshot takes a clone of every collection under the table's lock and encodes it outside.
//! With one `Arc<BTreeMap>` per collection the clone was O(1), but the first write afterwards
//! copied the whole collection on the apply path (tens of milliseconds for 60,000 documents,
//! stalling every client). Here a clone copies only the page index (one `Arc` per
//! [`MAX_PAGE_ENTRIES`] / 2 entries or more), and a write copies at most one page.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::Arc;

/// The most entries one page holds; a page that grows past it splits in two halves. A write
/// after a clone copies at most this many entries (one page).
pub(crate) const MAX_PAGE_ENTRIES: usize = 512;
/// A page that shrinks below this many entries is merged with a neighbour when the two fit in
/// one page, so deletions never leave the index with a page per entry.
pub(crate) const MIN_PAGE_ENTRIES: usize = MAX_PAGE_ENTRIES / 4;

/// An ordered map from `String` to `V` split into copy-on-write pages.
///
/// Invariants: each page is keyed by a lower bound of its keys, and every key of a page is
/// below the next page's bound; the first page's bound is the empty string (so every key has a
/// page); no page but the first is empty; no page holds more than [`MAX_PAGE_ENTRIES`]; after
/// a removal, the page it left below [`MIN_PAGE_ENTRIES`] was merged if a neighbour had room;
/// `len` is the sum of the pages' lengths. Equality compares contents, not the page layout.
#[derive(Clone)]
pub(crate) struct PagedMap<V> {
    pages: BTreeMap<String, Arc<BTreeMap<String, V>>>,
    len: usize,
}

impl<V> Default for PagedMap<V> {
    fn default() -> Self {
        PagedMap {
            pages: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<V: PartialEq> PartialEq for PagedMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for PagedMap<V> {}

impl<V: fmt::Debug> fmt::Debug for PagedMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> PagedMap<V> {
    /// The number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the map holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bound of the page that holds (or would hold) `key`.
    fn page_of(&self, key: &str) -> Option<(&String, &Arc<BTreeMap<String, V>>)> {
        self.pages
            .range::<str, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
    }

    /// The value at `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.page_of(key)?.1.get(key)
    }

    /// All entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> + '_ {
        self.pages.values().flat_map(|page| page.iter())
    }

    /// The entries whose key is at least `from`, in key order.
    pub(crate) fn range_from<'a>(
        &'a self,
        from: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
        let first = self
            .page_of(from)
            .map(|(bound, _)| bound.as_str())
            .unwrap_or("");
        self.pages
            .range::<str, _>((Bound::Included(first), Bound::Unbounded))
            .flat_map(move |(_, page)| {
                page.range::<str, _>((Bound::Included(from), Bound::Unbounded))
            })
    }
}

impl<V: Clone> PagedMap<V> {
    /// The page that holds (or would hold) `key`, unshared (copied first if a clone of the map
    /// still shares it), found with one search of the index; creates the first page of an
    /// empty map. Always `Some`: the first page is bounded by the empty string, which is at or
    /// below every key.
    fn page_mut(&mut self, key: &str) -> Option<&mut BTreeMap<String, V>> {
        if self.pages.is_empty() {
            self.pages.insert(String::new(), Arc::default());
        }
        self.pages
            .range_mut::<str, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .map(|(_, shared)| Arc::make_mut(shared))
    }

    /// Splits the page holding `key` if it grew past [`MAX_PAGE_ENTRIES`]: the upper half
    /// becomes a page bounded by its first key.
    fn split_if_full(&mut self, key: &str) {
        let Some(page) = self.page_mut(key).filter(|p| p.len() > MAX_PAGE_ENTRIES) else {
            return;
        };
        if let Some(middle) = page.keys().nth(page.len() / 2).cloned() {
            let upper = page.split_off(&middle);
            self.pages.insert(middle, Arc::new(upper));
        }
    }

    /// Inserts `value` at `key`, returning the value it replaces. Copies the page first if a
    /// clone of the map still shares it.
    pub(crate) fn insert(&mut self, key: String, value: V) -> Option<V> {
        let page = self.page_mut(&key)?;
        let full = page.len() >= MAX_PAGE_ENTRIES;
        let old = if full {
            let old = page.insert(key.clone(), value);
            self.split_if_full(&key);
            old
        } else {
            page.insert(key, value)
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Sets the value at `key` to what `make` returns from the value there now (`None`: the
    /// key is new), with one search of the index; the key is copied only when it is new. Copies
    /// the page first if a clone of the map still shares it.
    pub(crate) fn upsert(&mut self, key: &str, make: impl FnOnce(Option<&V>) -> V) {
        let Some(page) = self.page_mut(key) else {
            return;
        };
        if let Some(value) = page.get_mut(key) {
            *value = make(Some(value));
            return;
        }
        page.insert(key.to_owned(), make(None));
        let full = page.len() > MAX_PAGE_ENTRIES;
        self.len += 1;
        if full {
            self.split_if_full(key);
        }
    }

    /// Removes `key`, returning its value. Copies the page first if a clone still shares it;
    /// drops a page (other than the first) that becomes empty.
    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let bound = self.page_of(key)?.0.clone();
        if !self.pages.get(&bound)?.contains_key(key) {
            return None;
        }
        let page = Arc::make_mut(self.pages.get_mut(&bound)?);
        let old = page.remove(key)?;
        self.len -= 1;
        let left = page.len();
        if self.len == 0 {
            self.pages.clear();
        } else if left < MIN_PAGE_ENTRIES {
            self.merge_small(&bound, left);
        }
        Some(old)
    }

    /// Merges the page bounded by `bound` (holding `left` entries) with its predecessor, or
    /// else with its successor, when the two fit in one page. So no two neighbouring pages are
    /// both below [`MIN_PAGE_ENTRIES`] (the second to shrink merges), and the index holds at
    /// most about two pages per [`MIN_PAGE_ENTRIES`] entries.
    fn merge_small(&mut self, bound: &str, left: usize) {
        let fits = |page: &Arc<BTreeMap<String, V>>| page.len() + left <= MAX_PAGE_ENTRIES;
        let before = self
            .pages
            .range::<str, _>((Bound::Unbounded, Bound::Excluded(bound)))
            .next_back()
            .filter(|(_, page)| fits(page))
            .map(|(prev, _)| (prev.clone(), bound.to_owned()));
        let pair = before.or_else(|| {
            self.pages
                .range::<str, _>((Bound::Excluded(bound), Bound::Unbounded))
                .next()
                .filter(|(_, page)| fits(page))
                .map(|(next, _)| (bound.to_owned(), next.clone()))
        });
        let Some((low, high)) = pair else {
            return;
        };
        let Some(upper) = self.pages.remove(&high) else {
            return;
        };
        let upper = Arc::try_unwrap(upper).unwrap_or_else(|shared| (*shared).clone());
        if let Some(lower) = self.pages.get_mut(&low) {
            Arc::make_mut(lower).extend(upper);
        }
    }
}

impl<V: Serialize> Serialize for PagedMap<V> {
    /// Serialized as a plain map (the same bytes as a `BTreeMap<String, V>`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de> + Clone> Deserialize<'de> for PagedMap<V> {
    /// Read from a plain map; a repeated key keeps its last value (as a `BTreeMap` does).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PagedMapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de> + Clone> Visitor<'de> for PagedMapVisitor<V> {
            type Value = PagedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of string keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = PagedMap::default();
                while let Some((k, v)) = access.next_entry::<String, V>()? {
                    map.insert(k, v);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(PagedMapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the type's invariants against its own contents.
    fn check_invariants<V>(map: &PagedMap<V>) {
        let mut total = 0;
        let bounds: Vec<&String> = map.pages.keys().collect();
        if let Some(first) = bounds.first() {
            assert!(first.is_empty(), "the first page is bounded by \"\"");
        }
        for (i, (bound, page)) in map.pages.iter().enumerate() {
            assert!(page.len() <= MAX_PAGE_ENTRIES, "page {bound:?} too large");
            assert!(i == 0 || !page.is_empty(), "page {bound:?} empty");
            for k in page.keys() {
                assert!(k >= bound, "{k:?} below its page bound {bound:?}");
                if let Some(next) = bounds.get(i + 1) {
                    assert!(k < *next, "{k:?} not below the next bound {next:?}");
                }
            }
            total += page.len();
        }
        assert_eq!(total, map.len);
    }

    /// A deterministic shuffle of 0..n (an LCG), so the test needs no RNG crate.
    fn scrambled(n: u64, seed: u64) -> Vec<u64> {
        let mut x = seed;
        let mut v: Vec<u64> = (0..n).collect();
        for i in (1..v.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.swap(i, (x >> 33) as usize % (i + 1));
        }
        v
    }

    #[test]
    fn behaves_like_a_btree_map_under_inserts_upserts_and_removes() {
        let mut model = BTreeMap::new();
        let mut map = PagedMap::default();
        for (step, n) in scrambled(5000, 7).into_iter().enumerate() {
            let key = format!("k{:05}", n % 3000);
            if step % 3 == 2 {
                assert_eq!(map.remove(&key), model.remove(&key), "remove {key}");
            } else if step % 3 == 1 {
                // An upsert sees the value the key holds and leaves what it makes of it.
                let seen = model.get(&key).copied();
                map.upsert(&key, |old| {
                    assert_eq!(old.copied(), seen, "upsert {key} sees the current value");
                    old.map_or(step, |v| v + step)
                });
                model.insert(key.clone(), seen.map_or(step, |v| v + step));
            } else {
                assert_eq!(
                    map.insert(key.clone(), step),
                    model.insert(key.clone(), step),
                    "insert {key}"
                );
            }
            if step % 250 == 0 {
                check_invariants(&map);
            }
        }
        check_invariants(&map);
        assert!(map.pages.len() > 2, "the test must exercise splits");
        assert!(
            map.pages.len() <= 2 * map.len() / MIN_PAGE_ENTRIES + 2,
            "{} pages for {} entries: small pages were not merged",
            map.pages.len(),
            map.len()
        );
        assert_eq!(map.len(), model.len());
        assert!(map.iter().eq(model.iter()));
        for prefix in ["", "k0", "k01", "k029", "k3", "zz", "a"] {
            let got: Vec<_> = map.range_from(prefix).collect();
            let want: Vec<_> = model
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .collect();
            assert_eq!(got, want, "range from {prefix:?}");
        }
        for n in 0..3000 {
            let key = format!("k{n:05}");
            assert_eq!(map.get(&key), model.get(&key));
        }
        for key in model.keys() {
            map.remove(key);
        }
        check_invariants(&map);
        assert!(map.is_empty() && map.pages.is_empty());
    }

    #[test]
    fn a_clone_is_unchanged_by_later_writes_which_copy_one_page() {
        let mut map = PagedMap::default();
        for n in 0..10_000u64 {
            map.insert(format!("k{n:05}"), n);
        }
        let view = map.clone();
        map.insert("k00042".into(), 0);
        map.remove("k09999");
        map.insert("new".into(), 1);
        map.upsert("k05000", |v| v.map_or(0, |v| v + 1));
        assert_eq!(map.get("k05000"), Some(&5001));
        assert_eq!(view.get("k05000"), Some(&5000));
        assert_eq!(view.get("k00042"), Some(&42));
        assert_eq!(view.get("k09999"), Some(&9999));
        assert_eq!(view.get("new"), None);
        assert_eq!(view.len(), 10_000);
        // Only the touched pages were copied: the rest are still shared.
        let shared = map
            .pages
            .iter()
            .filter(|(b, p)| view.pages.get(*b).is_some_and(|q| Arc::ptr_eq(p, q)))
            .count();
        assert!(
            shared + 4 >= map.pages.len(),
            "{shared} of {}",
            map.pages.len()
        );
        check_invariants(&map);
        check_invariants(&view);
    }

    #[test]
    fn encodes_exactly_as_a_btree_map_and_decodes_back() {
        let mut map = PagedMap::default();
        let mut model = BTreeMap::new();
        for n in scrambled(2000, 3) {
            map.insert(format!("{n}"), n);
            model.insert(format!("{n}"), n);
        }
        let bytes = postcard::to_allocvec(&map).expect("encodes");
        assert_eq!(bytes, postcard::to_allocvec(&model).expect("encodes"));
        let back: PagedMap<u64> = postcard::from_bytes(&bytes).expect("decodes");
        check_invariants(&back);
        assert!(back.iter().eq(model.iter()));
    }

    #[test]
    fn thinning_out_a_large_map_merges_its_pages() {
        let mut map = PagedMap::default();
        for n in 0..20_000u64 {
            map.insert(format!("k{n:05}"), n);
        }
        let before = map.pages.len();
        for n in (0..20_000u64).filter(|n| n % 50 != 0) {
            map.remove(&format!("k{n:05}"));
        }
        check_invariants(&map);
        assert_eq!(map.len(), 400);
        assert!(
            map.pages.len() <= 2 * 400 / MIN_PAGE_ENTRIES + 2,
            "{} pages of {before}",
            map.pages.len()
        );
        assert!(map.iter().map(|(_, v)| *v).eq((0..20_000).step_by(50)));
    }

    #[test]
    fn keys_below_every_bound_land_in_the_first_page() {
        let mut map = PagedMap::default();
        for n in 0..2000u64 {
            map.insert(format!("m{n:04}"), n);
        }
        map.insert(String::new(), 0);
        map.insert("a".into(), 1);
        check_invariants(&map);
        assert_eq!(map.get(""), Some(&0));
        assert_eq!(map.iter().next(), Some((&String::new(), &0)));
        assert_eq!(map.remove(""), Some(0));
        assert_eq!(map.remove("nope"), None);
        check_invariants(&map);
    }
}
