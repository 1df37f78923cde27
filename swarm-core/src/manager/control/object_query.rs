//! Finding a service, task, secret, config or network as the docker CLI does (exact id, then
//! exact name, then unique id prefix), and what a create step returns.

use crate::manager::control::MAX_NAMED_CANDIDATES;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_ref::{ObjectRef, ObjectType};
use crate::manager::writes::ManagerWrites;
use std::collections::BTreeMap;

/// What a create step decided: the new object's id and the writes that create it.
#[derive(Clone, Debug, PartialEq)]
pub struct Created<I> {
    /// The new object's id.
    pub id: I,
    /// The writes (one create, applied as one transaction).
    pub writes: ManagerWrites,
}

/// How a lookup reads an object: its id, its name (empty: none) and how errors name it.
pub(crate) trait Named {
    /// The object's type.
    const KIND: ObjectType;
    /// Its name, empty when it has none.
    fn name(&self) -> &str;
    /// How errors name it.
    fn object_ref(&self) -> ObjectRef;
}

macro_rules! named {
    ($ty:ty, $kind:expr, $ref:ident, |$o:ident| $name:expr) => {
        impl Named for $ty {
            const KIND: ObjectType = $kind;
            fn name(&self) -> &str {
                let $o = self;
                $name
            }
            fn object_ref(&self) -> ObjectRef {
                ObjectRef::$ref(self)
            }
        }
    };
}

named!(crate::model::Service, ObjectType::Service, service, |s| &s
    .spec
    .name);
named!(crate::model::Task, ObjectType::Task, task, |_t| "");
named!(crate::model::Secret, ObjectType::Secret, secret, |s| &s
    .spec
    .name);
named!(crate::model::Config, ObjectType::Config, config, |c| &c
    .spec
    .name);
named!(crate::model::Network, ObjectType::Network, network, |n| &n
    .spec
    .name);

/// The one object of `objects` (keyed by id) that `query` names, tried as an exact id, then an
/// exact name, then an id prefix.
///
/// Contract: an exact id wins over everything; a name or a prefix that matches several
/// objects is refused with [`ControlError::Ambiguous`] naming (up to
/// [`MAX_NAMED_CANDIDATES`], in id order) the candidates; no match is
/// [`ControlError::NotFound`]; an empty query matches nothing.
pub(crate) fn find_object<'a, K, T>(
    objects: &'a BTreeMap<K, T>,
    query: &str,
) -> Result<&'a T, ControlError>
where
    K: Ord + std::borrow::Borrow<str> + 'a,
    T: Named,
{
    let not_found = || ControlError::NotFound {
        kind: T::KIND,
        query: query.to_owned(),
    };
    if query.is_empty() {
        return Err(not_found());
    }
    if let Some(object) = objects.get(query) {
        return Ok(object);
    }
    // First exact names, then id prefixes.
    for by_name in [true, false] {
        let hit = |id: &K, o: &T| {
            if by_name {
                o.name() == query
            } else {
                id.borrow().starts_with(query)
            }
        };
        let found: Vec<&T> = objects
            .iter()
            .filter(|(id, o)| hit(id, o))
            .map(|(_, o)| o)
            .collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            _ => {
                return Err(ControlError::Ambiguous {
                    kind: T::KIND,
                    query: query.to_owned(),
                    candidates: found
                        .iter()
                        .take(MAX_NAMED_CANDIDATES)
                        .map(|o| o.object_ref())
                        .collect(),
                    more: found.len().saturating_sub(MAX_NAMED_CANDIDATES),
                });
            }
        }
    }
    Err(not_found())
}

/// The object of `objects` with exactly this id or, failing that, exactly this name.
pub(crate) fn by_id_or_name<'a, K, T>(objects: &'a BTreeMap<K, T>, target: &str) -> Option<&'a T>
where
    K: Ord + std::borrow::Borrow<str>,
    T: Named,
{
    if target.is_empty() {
        return None;
    }
    objects
        .get(target)
        .or_else(|| objects.values().find(|o| o.name() == target))
}

/// Refused with [`ControlError::NameInUse`] when another object of `objects` has `name`.
pub(crate) fn check_name_free<K, T: Named>(
    objects: &BTreeMap<K, T>,
    name: &str,
) -> Result<(), ControlError> {
    match objects.values().find(|o| o.name() == name) {
        Some(existing) => Err(ControlError::NameInUse {
            kind: T::KIND,
            name: name.to_owned(),
            existing: existing.object_ref(),
        }),
        None => Ok(()),
    }
}

/// `users` as an [`ControlError::InUse`] refusal of `object`, or `Ok` when there are none.
pub(crate) fn check_unused(object: ObjectRef, users: Vec<ObjectRef>) -> Result<(), ControlError> {
    if users.is_empty() {
        return Ok(());
    }
    let more = users.len().saturating_sub(MAX_NAMED_CANDIDATES);
    Err(ControlError::InUse {
        object,
        users: users.into_iter().take(MAX_NAMED_CANDIDATES).collect(),
        more,
    })
}

/// A fresh id (25 base-36 characters from `rng`) that is not a key of `objects`, or
/// [`ControlError::IdsExhausted`] after [`MAX_ID_DRAWS`](crate::manager::ca_server::MAX_ID_DRAWS)
/// draws.
pub(crate) fn fresh_id<K, T>(
    objects: &BTreeMap<K, T>,
    what: &'static str,
    rng: &mut dyn FnMut() -> u64,
) -> Result<String, ControlError>
where
    K: Ord + std::borrow::Borrow<str>,
{
    use crate::manager::ca_server::{MAX_ID_DRAWS, random_id};
    (0..MAX_ID_DRAWS)
        .map(|_| random_id(rng))
        .find(|id| !objects.contains_key(id.as_str()))
        .ok_or(ControlError::IdsExhausted {
            what,
            draws: MAX_ID_DRAWS,
        })
}
