//! What is left of a node's resources once the tasks on it took their reservations.

use crate::model::{GenericResource, Resources};
use std::collections::BTreeMap;

/// A node's total resources, reservations taken from it one task at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeCapacity {
    nano_cpus: i64,
    memory_bytes: i64,
    /// Units per generic kind: a discrete resource's count, one per named item.
    generic: BTreeMap<String, i64>,
}

impl NodeCapacity {
    /// A node offering `total`.
    pub(crate) fn new(total: &Resources) -> Self {
        NodeCapacity {
            nano_cpus: total.nano_cpus,
            memory_bytes: total.memory_bytes,
            generic: units(&total.generic),
        }
    }

    /// Takes `reservation` if what is left covers it; otherwise takes nothing and names the
    /// first resource short (`"cpu"`, `"memory"` or the generic kind).
    pub(crate) fn take(&mut self, reservation: Option<&Resources>) -> Result<(), String> {
        let Some(r) = reservation else {
            return Ok(());
        };
        if r.nano_cpus > self.nano_cpus {
            return Err("cpu".to_owned());
        }
        if r.memory_bytes > self.memory_bytes {
            return Err("memory".to_owned());
        }
        let wanted = units(&r.generic);
        for (kind, n) in &wanted {
            if *n > self.generic.get(kind).copied().unwrap_or(0) {
                return Err(kind.clone());
            }
        }
        self.nano_cpus = self.nano_cpus.saturating_sub(r.nano_cpus);
        self.memory_bytes = self.memory_bytes.saturating_sub(r.memory_bytes);
        for (kind, n) in wanted {
            if let Some(left) = self.generic.get_mut(&kind) {
                *left = left.saturating_sub(n);
            }
        }
        Ok(())
    }
}

fn units(generic: &[GenericResource]) -> BTreeMap<String, i64> {
    let mut units: BTreeMap<String, i64> = BTreeMap::new();
    for g in generic {
        let n = match g {
            GenericResource::Discrete { value, .. } => *value,
            GenericResource::Named { .. } => 1,
        };
        let entry = units.entry(g.kind().to_owned()).or_default();
        *entry = entry.saturating_add(n);
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_taken_until_one_does_not_fit() {
        let mut capacity = NodeCapacity::new(&Resources {
            nano_cpus: 2_000_000_000,
            memory_bytes: 1 << 30,
            generic: vec![
                GenericResource::Named {
                    kind: "gpu".into(),
                    value: "g0".into(),
                },
                GenericResource::Discrete {
                    kind: "ssd".into(),
                    value: 2,
                },
            ],
        });
        let one_cpu = Resources {
            nano_cpus: 1_000_000_000,
            ..Resources::default()
        };
        let gpu = Resources {
            generic: vec![GenericResource::Discrete {
                kind: "gpu".into(),
                value: 1,
            }],
            ..Resources::default()
        };
        assert_eq!(capacity.take(None), Ok(()));
        assert_eq!(capacity.take(Some(&one_cpu)), Ok(()));
        assert_eq!(capacity.take(Some(&gpu)), Ok(()));
        assert_eq!(capacity.take(Some(&gpu)), Err("gpu".to_owned()));
        assert_eq!(capacity.take(Some(&one_cpu)), Ok(()));
        assert_eq!(capacity.take(Some(&one_cpu)), Err("cpu".to_owned()));
        let big = Resources {
            memory_bytes: 2 << 30,
            ..Resources::default()
        };
        assert_eq!(capacity.take(Some(&big)), Err("memory".to_owned()));
    }
}
