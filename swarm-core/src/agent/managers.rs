//! The managers an agent knows, with weights, and the weighted random choice among them.

use crate::manager::dispatcher::{DEFAULT_MANAGER_WEIGHT, MAX_MANAGERS, WeightedManager};

/// One manager the agent may call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) addr: String,
    pub(crate) weight: u32,
}

/// The agent's managers: 1 to [`MAX_MANAGERS`] distinct addresses with weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Managers {
    list: Vec<Candidate>,
}

impl Managers {
    /// The managers from configuration, with the default weight; duplicates are dropped.
    /// `None` when empty; `Err(count)` when more than [`MAX_MANAGERS`] distinct addresses.
    pub(crate) fn from_addrs(addrs: &[String]) -> Result<Option<Self>, usize> {
        let mut list: Vec<Candidate> = Vec::new();
        for addr in addrs {
            if !list.iter().any(|c| &c.addr == addr) {
                list.push(Candidate {
                    addr: addr.clone(),
                    weight: DEFAULT_MANAGER_WEIGHT,
                });
            }
        }
        if list.len() > MAX_MANAGERS {
            return Err(list.len());
        }
        Ok((!list.is_empty()).then_some(Managers { list }))
    }

    /// Replaces the list with a manager's answer. An empty answer keeps the current list;
    /// duplicates are dropped and entries past [`MAX_MANAGERS`] ignored (managers send at most
    /// that many).
    pub(crate) fn replace(&mut self, managers: &[WeightedManager]) {
        let mut list: Vec<Candidate> = Vec::new();
        for m in managers {
            if list.len() == MAX_MANAGERS {
                break;
            }
            if !list.iter().any(|c| c.addr == m.addr) {
                list.push(Candidate {
                    addr: m.addr.clone(),
                    weight: m.weight,
                });
            }
        }
        if !list.is_empty() {
            self.list = list;
        }
    }

    /// Halves the weight of `addr` after it failed, so that it is chosen less often until the
    /// next answer brings fresh weights.
    pub(crate) fn penalise(&mut self, addr: &str) {
        if let Some(c) = self.list.iter_mut().find(|c| c.addr == addr) {
            c.weight /= 2;
        }
    }

    /// Chooses a manager with probability proportional to `weight + 1`, leaving out `exclude`
    /// unless it is the only one. `random` is a uniform value from the caller's generator.
    pub(crate) fn choose(&self, exclude: Option<&str>, random: u64) -> &str {
        let eligible = |c: &&Candidate| Some(c.addr.as_str()) != exclude;
        let any_other = self.list.iter().any(|c| eligible(&c));
        let pool = || self.list.iter().filter(move |c| !any_other || eligible(c));
        // At most 64 weights below 2^32 each: the total fits in u64.
        let total: u64 = pool().map(|c| u64::from(c.weight) + 1).sum();
        let mut point = random % total.max(1);
        for c in pool() {
            let w = u64::from(c.weight) + 1;
            if point < w {
                return &c.addr;
            }
            point -= w;
        }
        // Not reached: the list is never empty and `point < total`.
        self.list.first().map_or("", |c| c.addr.as_str())
    }

    /// The addresses, in order.
    pub(crate) fn addrs(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|c| c.addr.as_str())
    }

    /// The weight of `addr`, if known.
    pub(crate) fn weight(&self, addr: &str) -> Option<u32> {
        self.list.iter().find(|c| c.addr == addr).map(|c| c.weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::dispatcher::mix64;
    use std::collections::BTreeMap;

    fn managers(addrs: &[&str]) -> Managers {
        let owned: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        Managers::from_addrs(&owned).unwrap().unwrap()
    }

    fn counts(m: &Managers, exclude: Option<&str>, draws: u64) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for s in 0..draws {
            *counts
                .entry(m.choose(exclude, mix64(s)).to_owned())
                .or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn configuration_is_deduplicated_and_bounded() {
        assert_eq!(Managers::from_addrs(&[]), Ok(None));
        let m = managers(&["a", "b", "a"]);
        assert_eq!(m.addrs().collect::<Vec<_>>(), ["a", "b"]);
        let too_many: Vec<String> = (0..=MAX_MANAGERS).map(|i| format!("m{i}")).collect();
        assert_eq!(Managers::from_addrs(&too_many), Err(MAX_MANAGERS + 1));
        assert!(Managers::from_addrs(&too_many[..MAX_MANAGERS]).is_ok());
    }

    #[test]
    fn the_excluded_manager_is_never_chosen_when_another_exists() {
        let m = managers(&["a", "b", "c"]);
        let c = counts(&m, Some("b"), 3_000);
        assert!(!c.contains_key("b"));
        assert!(c["a"] > 1_200 && c["c"] > 1_200, "{c:?}");
        // The only manager is chosen even when excluded.
        let one = managers(&["a"]);
        assert_eq!(one.choose(Some("a"), 12345), "a");
    }

    #[test]
    fn choice_follows_the_weights() {
        let mut m = managers(&["a", "b"]);
        m.replace(&[
            WeightedManager {
                node: "ma".into(),
                addr: "a".into(),
                weight: 0,
            },
            WeightedManager {
                node: "mb".into(),
                addr: "b".into(),
                weight: 9,
            },
        ]);
        // Probabilities 1/11 and 10/11.
        let c = counts(&m, None, 11_000);
        assert!((700..1_300).contains(&c["a"]), "{c:?}");
        assert!((9_700..10_300).contains(&c["b"]), "{c:?}");
        // Extreme random inputs stay in range.
        for r in [0, 1, 10, 11, u64::MAX] {
            assert!(["a", "b"].contains(&m.choose(None, r)));
        }
    }

    #[test]
    fn penalties_halve_the_weight_and_answers_restore_it() {
        let mut m = managers(&["a", "b"]);
        m.penalise("a");
        assert_eq!(m.weight("a"), Some(DEFAULT_MANAGER_WEIGHT / 2));
        m.penalise("a");
        m.penalise("a");
        m.penalise("a");
        assert_eq!(m.weight("a"), Some(0));
        m.penalise("unknown");
        m.replace(&[WeightedManager::new("ma", "a")]);
        assert_eq!(m.addrs().collect::<Vec<_>>(), ["a"]);
        assert_eq!(m.weight("a"), Some(DEFAULT_MANAGER_WEIGHT));
    }

    #[test]
    fn an_empty_answer_keeps_the_list_and_a_long_one_is_cut() {
        let mut m = managers(&["a"]);
        m.replace(&[]);
        assert_eq!(m.addrs().collect::<Vec<_>>(), ["a"]);
        let long: Vec<WeightedManager> = (0..MAX_MANAGERS + 5)
            .map(|i| WeightedManager::new(format!("m{i}"), format!("10.0.0.{i}:2377")))
            .collect();
        m.replace(&long);
        assert_eq!(m.addrs().count(), MAX_MANAGERS);
        m.replace(&[
            WeightedManager::new("x", "x"),
            WeightedManager::new("y", "x"),
        ]);
        assert_eq!(m.addrs().collect::<Vec<_>>(), ["x"]);
    }
}
