//! `swarm unlock-key [--rotate]` and the unlock key that follows the autolock setting.

use crate::manager::control::error::ControlError;
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{Cluster, ManagerUnlockKey};
use std::time::SystemTime;
use swarm_secrets::UnlockKey;
use zeroize::Zeroizing;

/// Makes `cluster`'s unlock key agree with its autolock setting: a fresh key (from the
/// operating system's random source) when autolock is on and there is none, no key when it is
/// off. Returns whether it changed anything. [`update_cluster`](super::update_cluster) and
/// [`init_cluster`](super::init_cluster) call it, so a cluster object they write always agrees.
pub fn settle_unlock_key(cluster: &mut Cluster) -> Result<bool, ControlError> {
    match (
        cluster.spec.encryption.auto_lock_managers,
        &cluster.unlock_key,
    ) {
        (true, None) => {
            cluster.unlock_key = Some(fresh_key()?);
            Ok(true)
        }
        (false, Some(_)) => {
            cluster.unlock_key = None;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `swarm unlock-key`: the current unlock key, `None` when autolock is off.
pub fn unlock_key(cluster: &Cluster) -> Option<Zeroizing<String>> {
    cluster
        .unlock_key
        .as_ref()
        .map(|k| Zeroizing::new(k.0.clone()))
}

/// `swarm unlock-key --rotate`: a fresh unlock key, written with the version read. Every
/// manager re-locks its data with it when the cluster object reaches it; the old key then
/// no longer unlocks a restarted manager. Refused with [`ControlError::InvalidRequest`] when
/// autolock is off.
pub fn rotate_unlock_key(
    cluster: &Cluster,
    now: SystemTime,
) -> Result<ManagerWrites, ControlError> {
    if !cluster.spec.encryption.auto_lock_managers {
        return Err(ControlError::InvalidRequest {
            field: "encryption.auto_lock_managers",
            reason: format!(
                "autolock is off in cluster {:?}: there is no unlock key to rotate",
                cluster.spec.name
            ),
        });
    }
    let mut changed = cluster.clone();
    changed.unlock_key = Some(fresh_key()?);
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![ManagerWrite::UpdateCluster {
            cluster: changed,
            expected_version: cluster.meta.version,
        }],
        membership: Vec::new(),
    })
}

fn fresh_key() -> Result<ManagerUnlockKey, ControlError> {
    let key = UnlockKey::generate().map_err(|source| ControlError::Secrets {
        what: "a new unlock key".to_owned(),
        source,
    })?;
    Ok(ManagerUnlockKey(key.expose_human_readable().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_autolock_and_rotates_only_when_on() {
        let mut cluster = Cluster::default();
        assert!(!settle_unlock_key(&mut cluster).unwrap());
        assert!(rotate_unlock_key(&cluster, SystemTime::UNIX_EPOCH).is_err());
        cluster.spec.encryption.auto_lock_managers = true;
        assert!(settle_unlock_key(&mut cluster).unwrap());
        let first = unlock_key(&cluster).unwrap();
        assert!(first.starts_with("SWMKEY-1-"));
        assert!(UnlockKey::parse(&first).is_ok());
        let writes = rotate_unlock_key(&cluster, SystemTime::UNIX_EPOCH).unwrap();
        let [
            ManagerWrite::UpdateCluster {
                cluster: rotated, ..
            },
        ] = writes.writes.as_slice()
        else {
            panic!("one cluster write expected");
        };
        assert_ne!(unlock_key(rotated).unwrap(), first);
        cluster.spec.encryption.auto_lock_managers = false;
        assert!(settle_unlock_key(&mut cluster).unwrap());
        assert!(unlock_key(&cluster).is_none());
    }
}
