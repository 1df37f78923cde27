//! What `secret` and `config` commands share: both are named files whose data never changes
//! after creation, whose labels may, and which services reference by id.

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::{
    Created, Named, check_name_free, check_unused, find_object, fresh_id,
};
use crate::manager::control::object_ref::ObjectRef;
use crate::manager::writes::{ManagerWrite, ManagerWrites, ObjectWrite};
use crate::model::{
    Config, ConfigId, ConfigSpec, Meta, Secret, SecretId, SecretSpec, Service, Version,
};
use crate::validate::Validate;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// A secret or a config, as the control functions below see it.
pub(crate) trait FileObject: Named + Clone + Sized {
    /// Its spec.
    type Spec: Validate + Clone;
    /// Its id type.
    type Id: Ord + Borrow<str> + Clone;
    /// How the id counter names it in errors (`"secret id"`).
    const ID_WHAT: &'static str;

    /// Every object of the kind in `state`.
    fn all(state: &ClusterState) -> &BTreeMap<Self::Id, Self>;
    /// A new object.
    fn build(id: Self::Id, meta: Meta, spec: Self::Spec) -> Self;
    /// A new id from `fresh`.
    fn id_of(fresh: String) -> Self::Id;
    /// Its id.
    fn id(&self) -> &Self::Id;
    /// Its metadata.
    fn meta(&self) -> &Meta;
    /// Its metadata, to change.
    fn meta_mut(&mut self) -> &mut Meta;
    /// Its labels.
    fn labels(&self) -> &BTreeMap<String, String>;
    /// Its labels, to change.
    fn labels_mut(&mut self) -> &mut BTreeMap<String, String>;
    /// The labels of `spec`.
    fn spec_labels(spec: &Self::Spec) -> &BTreeMap<String, String>;
    /// Whether `spec` has this object's name and data (a secret's value compared in constant
    /// time); empty data in `spec` stands for the stored data (SwarmKit's absent `Data`: the
    /// Engine API's update may omit it, and a stored secret or config is never empty).
    fn same_name_and_data(&self, spec: &Self::Spec) -> bool;
    /// Its spec.
    fn spec(&self) -> &Self::Spec;
    /// Whether `service`'s spec references this object.
    fn used_by(&self, service: &Service) -> bool;
    /// The store write carrying `write`.
    fn write(write: ObjectWrite<Self>) -> ManagerWrite;
}

/// `impl FileObject` for a kind: its type, spec, id, id counter name, the state's and the
/// container spec's collection (one name), and the reference's id field.
macro_rules! file_object {
    ($ty:ident, $spec:ident, $id:ident, $what:literal, $all:ident, $ref_id:ident) => {
        impl FileObject for $ty {
            type Spec = $spec;
            type Id = $id;
            const ID_WHAT: &'static str = $what;

            fn all(state: &ClusterState) -> &BTreeMap<$id, $ty> {
                state.$all()
            }
            fn build(id: $id, meta: Meta, spec: $spec) -> $ty {
                $ty { id, meta, spec }
            }
            fn id_of(fresh: String) -> $id {
                $id::new(fresh)
            }
            fn id(&self) -> &$id {
                &self.id
            }
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut Meta {
                &mut self.meta
            }
            fn labels(&self) -> &BTreeMap<String, String> {
                &self.spec.labels
            }
            fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
                &mut self.spec.labels
            }
            fn spec_labels(spec: &$spec) -> &BTreeMap<String, String> {
                &spec.labels
            }
            fn same_name_and_data(&self, spec: &$spec) -> bool {
                spec.name == self.spec.name && (spec.data.is_empty() || spec.data == self.spec.data)
            }
            fn spec(&self) -> &$spec {
                &self.spec
            }
            fn used_by(&self, service: &Service) -> bool {
                let refs = &service.spec.task_template.container.$all;
                refs.iter().any(|r| r.$ref_id == self.id)
            }
            fn write(write: ObjectWrite<$ty>) -> ManagerWrite {
                ManagerWrite::$ty(write)
            }
        }
    };
}

file_object!(
    Secret,
    SecretSpec,
    SecretId,
    "secret id",
    secrets,
    secret_id
);
file_object!(
    Config,
    ConfigSpec,
    ConfigId,
    "config id",
    configs,
    config_id
);

/// One write, no membership change.
fn one(write: ManagerWrite) -> ManagerWrites {
    ManagerWrites {
        writes: vec![write],
        membership: Vec::new(),
    }
}

/// `create`: see [`create_secret`](super::create_secret) for the contract.
pub(crate) fn create<T: FileObject>(
    state: &ClusterState,
    spec: &T::Spec,
    name: &str,
    now: SystemTime,
    rng: &mut dyn FnMut() -> u64,
) -> Result<Created<T::Id>, ControlError> {
    spec.validate().map_err(ControlError::InvalidSpec)?;
    check_name_free(T::all(state), name)?;
    let id = T::id_of(fresh_id(T::all(state), T::ID_WHAT, rng)?);
    let object = T::build(id.clone(), Meta::new(Version(0), now), spec.clone());
    Ok(Created {
        id,
        writes: one(T::write(ObjectWrite::Create(object))),
    })
}

/// `update`: only the labels change; see [`update_secret`](super::update_secret) for the
/// contract.
pub(crate) fn update_labels<T: FileObject>(
    state: &ClusterState,
    query: &str,
    version: Version,
    spec: &T::Spec,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    let current = find_object(T::all(state), query)?;
    let current_version = current.meta().version;
    if version != current_version {
        return Err(ControlError::ObjectVersionConflict {
            object: current.object_ref(),
            expected: version,
            current: current_version,
        });
    }
    if !current.same_name_and_data(spec) {
        return Err(ControlError::OnlyLabelsMayChange {
            object: current.object_ref(),
        });
    }
    let mut changed = current.clone();
    *changed.labels_mut() = T::spec_labels(spec).clone();
    changed
        .spec()
        .validate()
        .map_err(ControlError::InvalidSpec)?;
    if T::spec_labels(spec) == current.labels() {
        return Ok(ManagerWrites::default());
    }
    changed.meta_mut().updated_at = now;
    Ok(one(T::write(ObjectWrite::Update {
        object: changed,
        expected_version: current_version,
    })))
}

/// `rm`: see [`remove_secret`](super::remove_secret) for the contract.
pub(crate) fn remove<T: FileObject>(
    state: &ClusterState,
    query: &str,
) -> Result<ManagerWrites, ControlError> {
    let object = find_object(T::all(state), query)?;
    let users = state
        .services()
        .values()
        .filter(|s| object.used_by(s))
        .map(ObjectRef::service)
        .collect();
    check_unused(object.object_ref(), users)?;
    Ok(one(T::write(ObjectWrite::Delete {
        id: object.id().borrow().to_owned(),
        expected_version: object.meta().version,
    })))
}
