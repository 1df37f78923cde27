//! The key rules, without files: every state and transition of `ManagerKeys`.

#![allow(clippy::unwrap_used)]

use crate::manager::state::{KeyProtection, KeysError, KeysFile, ManagerKeys};
use swarm_secrets::UnlockKey;
use swarm_store::storage::Cipher;

fn key() -> UnlockKey {
    UnlockKey::generate().unwrap()
}

/// Seals `text` with the keys' cipher at position `at`.
fn seal(keys: &ManagerKeys, text: &[u8], at: &[u8]) -> Vec<u8> {
    keys.cipher().unwrap().seal(text, at).unwrap()
}

fn opens(keys: &ManagerKeys, sealed: &[u8], at: &[u8]) -> Vec<u8> {
    keys.cipher().unwrap().open(sealed, at).unwrap()
}

#[test]
fn without_autolock_the_file_holds_the_key_and_opens_directly() {
    let (keys, file) = ManagerKeys::create(None).unwrap();
    assert!(!keys.is_locked() && !keys.autolock());
    assert!(matches!(file.protection, KeyProtection::KeyOnDisk(_)));
    assert!(matches!(keys.unlock_key(), Err(KeysError::AutolockOff)));
    assert!(matches!(
        keys.plan_unlock_key_rotation(&key()),
        Err(KeysError::AutolockOff)
    ));
    assert!(matches!(
        keys.plan_disable_autolock(),
        Err(KeysError::AutolockOff)
    ));
    let sealed = seal(&keys, b"node-1", b"1");
    let reopened = ManagerKeys::load(KeysFile::decode(&file.encode()).unwrap()).unwrap();
    assert!(!reopened.is_locked());
    assert_eq!(opens(&reopened, &sealed, b"1"), b"node-1");
    assert_eq!(reopened.file().unwrap(), file);
}

#[test]
fn with_autolock_a_load_is_locked_until_the_right_key() {
    let k = key();
    let (keys, file) = ManagerKeys::create(Some(&k)).unwrap();
    assert_eq!(file.protection, KeyProtection::Autolock);
    assert!(keys.autolock());
    assert_eq!(keys.unlock_key().unwrap(), &k);
    let sealed = seal(&keys, b"cluster", b"9");

    let mut loaded = ManagerKeys::load(file.clone()).unwrap();
    assert!(loaded.is_locked() && loaded.autolock());
    assert!(matches!(loaded.cipher(), Err(KeysError::Locked)));
    assert!(matches!(loaded.unlock_key(), Err(KeysError::Locked)));
    assert!(matches!(
        loaded.plan_unlock_key_rotation(&key()),
        Err(KeysError::Locked)
    ));
    assert!(matches!(
        loaded.unlock(&key()),
        Err(KeysError::WrongUnlockKey)
    ));
    assert!(loaded.is_locked());
    assert_eq!(loaded.file().unwrap(), file);
    loaded.unlock(&k).unwrap();
    assert!(!loaded.is_locked());
    assert_eq!(opens(&loaded, &sealed, b"9"), b"cluster");
    // Unlocking again checks the key and changes nothing.
    loaded.unlock(&k).unwrap();
    assert!(matches!(
        loaded.unlock(&key()),
        Err(KeysError::WrongUnlockKey)
    ));
    assert!(!loaded.is_locked());
}

#[test]
fn a_rotation_takes_effect_only_when_committed() {
    let old = key();
    let new = key();
    let (mut keys, file) = ManagerKeys::create(Some(&old)).unwrap();
    let sealed = seal(&keys, b"before", b"1");
    let change = keys.plan_unlock_key_rotation(&new).unwrap();
    assert!(change.autolock());
    assert_eq!(change.file().protection, KeyProtection::Autolock);
    // Not committed: the old key is current, and the old file still opens with it.
    assert_eq!(keys.unlock_key().unwrap(), &old);
    let mut from_new_file = ManagerKeys::load(change.file().clone()).unwrap();
    assert!(matches!(
        from_new_file.unlock(&old),
        Err(KeysError::WrongUnlockKey)
    ));
    from_new_file.unlock(&new).unwrap();
    assert_eq!(opens(&from_new_file, &sealed, b"1"), b"before");
    let mut from_old_file = ManagerKeys::load(file).unwrap();
    from_old_file.unlock(&old).unwrap();

    keys.commit(change).unwrap();
    assert_eq!(keys.unlock_key().unwrap(), &new);
    assert_eq!(keys.generation(), 1);
    // The same data key: what was sealed before still opens, through the same cipher.
    assert_eq!(opens(&keys, &sealed, b"1"), b"before");
    let after = keys.file().unwrap();
    let mut reloaded = ManagerKeys::load(after).unwrap();
    assert!(matches!(
        reloaded.unlock(&old),
        Err(KeysError::WrongUnlockKey)
    ));
    reloaded.unlock(&new).unwrap();
}

#[test]
fn a_change_planned_before_another_commit_is_stale() {
    let (mut keys, _) = ManagerKeys::create(Some(&key())).unwrap();
    let first = keys.plan_unlock_key_rotation(&key()).unwrap();
    let second = keys.plan_unlock_key_rotation(&key()).unwrap();
    keys.commit(first).unwrap();
    assert!(matches!(
        keys.commit(second),
        Err(KeysError::StaleChange {
            planned: 0,
            current: 1
        })
    ));
}

#[test]
fn enabling_autolock_rewraps_and_makes_a_new_data_key_active() {
    let (mut keys, _) = ManagerKeys::create(None).unwrap();
    let cipher = keys.cipher().unwrap();
    let before = seal(&keys, b"old", b"1");
    assert_eq!(cipher.active_key_id(), 1);
    let k = key();
    let change = keys.plan_enable_autolock(&k).unwrap();
    assert_eq!(change.file().protection, KeyProtection::Autolock);
    assert_eq!(cipher.active_key_id(), 1, "nothing changes before commit");
    keys.commit(change).unwrap();
    assert!(keys.autolock());
    assert_eq!(keys.unlock_key().unwrap(), &k);
    // The storages' cipher (the same Arc) now seals under the new data key.
    assert_eq!(cipher.active_key_id(), 2);
    let after = cipher.seal(b"new", b"2").unwrap();
    assert!(matches!(
        keys.plan_enable_autolock(&key()),
        Err(KeysError::AutolockAlreadyOn)
    ));

    let mut reloaded = ManagerKeys::load(keys.file().unwrap()).unwrap();
    assert!(reloaded.is_locked());
    reloaded.unlock(&k).unwrap();
    assert_eq!(opens(&reloaded, &before, b"1"), b"old");
    assert_eq!(opens(&reloaded, &after, b"2"), b"new");
}

#[test]
fn disabling_autolock_stores_a_fresh_key_and_the_old_one_stops_working() {
    let k = key();
    let (mut keys, _) = ManagerKeys::create(Some(&k)).unwrap();
    let sealed = seal(&keys, b"x", b"1");
    let change = keys.plan_disable_autolock().unwrap();
    let KeyProtection::KeyOnDisk(stored) = &change.file().protection else {
        panic!("autolock off stores the key");
    };
    assert!(stored != &k);
    keys.commit(change).unwrap();
    assert!(!keys.autolock());
    assert!(matches!(keys.unlock_key(), Err(KeysError::AutolockOff)));
    assert!(matches!(keys.unlock(&k), Err(KeysError::WrongUnlockKey)));
    let reloaded = ManagerKeys::load(keys.file().unwrap()).unwrap();
    assert!(!reloaded.is_locked());
    assert_eq!(opens(&reloaded, &sealed, b"1"), b"x");
}

#[test]
fn a_stored_key_that_does_not_match_or_a_damaged_keyring_is_corrupt() {
    let (_, file) = ManagerKeys::create(None).unwrap();
    let swapped = KeysFile {
        protection: KeyProtection::KeyOnDisk(key()),
        keyring_export: file.keyring_export.clone(),
    };
    assert!(matches!(
        ManagerKeys::load(swapped),
        Err(KeysError::Corrupt { .. })
    ));
    let mut damaged = file.clone();
    let last = damaged.keyring_export.len() - 1;
    damaged.keyring_export[last] ^= 1;
    assert!(matches!(
        ManagerKeys::load(damaged),
        Err(KeysError::Corrupt { .. })
    ));
    let garbage = KeysFile {
        protection: KeyProtection::Autolock,
        keyring_export: vec![1, 2, 3],
    };
    let e = ManagerKeys::load(garbage).unwrap_err();
    assert!(matches!(e, KeysError::Corrupt { .. }), "{e}");
}

#[test]
fn debug_never_shows_a_key() {
    let k = key();
    let (keys, _) = ManagerKeys::create(Some(&k)).unwrap();
    let change = keys.plan_unlock_key_rotation(&key()).unwrap();
    let text = format!("{keys:?} {change:?}");
    assert!(!text.contains(&k.expose_human_readable()[9..]));
}

#[test]
fn plan_to_match_follows_the_key_the_cluster_wants() {
    let (mut keys, _) = ManagerKeys::create(None).unwrap();
    assert!(keys.plan_to_match(None).unwrap().is_none());
    let first = key();
    let change = keys.plan_to_match(Some(&first)).unwrap().unwrap();
    assert!(change.autolock());
    keys.commit(change).unwrap();
    assert_eq!(keys.unlock_key().unwrap(), &first);
    assert!(keys.plan_to_match(Some(&first)).unwrap().is_none());
    let second = key();
    let change = keys.plan_to_match(Some(&second)).unwrap().unwrap();
    keys.commit(change).unwrap();
    assert_eq!(keys.unlock_key().unwrap(), &second);
    assert_eq!(
        keys.cipher().unwrap().active_key_id(),
        2,
        "only enabling adds a data key"
    );
    let change = keys.plan_to_match(None).unwrap().unwrap();
    keys.commit(change).unwrap();
    assert!(!keys.autolock());
    let locked = ManagerKeys::load(ManagerKeys::create(Some(&first)).unwrap().1).unwrap();
    assert!(matches!(locked.plan_to_match(None), Err(KeysError::Locked)));
}
