//! The data directory's files: creation, locked opens, refusals, and crashes between the
//! steps of replacing the keys file.

#![allow(clippy::unwrap_used)]

use crate::manager::state::data_dir::{install_staged_keys_file, stage_keys_file};
use crate::manager::state::{
    DataDirError, KEYS_FILE, KEYS_TMP_FILE, KeysError, ManagerDataDir, ManagerKeys,
};
use swarm_secrets::UnlockKey;
use swarm_store::storage::Cipher;

fn key() -> UnlockKey {
    UnlockKey::generate().unwrap()
}

#[test]
fn without_autolock_a_reopen_is_unlocked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("manager");
    let data = ManagerDataDir::create(&dir, None).unwrap();
    let sealed = data.cipher().unwrap().seal(b"v", b"1").unwrap();
    drop(data);
    let data = ManagerDataDir::open(&dir).unwrap();
    assert!(!data.is_locked() && !data.autolock());
    assert_eq!(data.cipher().unwrap().open(&sealed, b"1").unwrap(), b"v");
    assert!(matches!(
        data.unlock_key(),
        Err(DataDirError::Keys {
            source: KeysError::AutolockOff,
            ..
        })
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(KEYS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn with_autolock_a_wrong_key_changes_nothing_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key();
    ManagerDataDir::create(tmp.path(), Some(&k)).unwrap();
    let before = std::fs::read(tmp.path().join(KEYS_FILE)).unwrap();
    let mut data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(data.is_locked());
    let e = data.cipher().unwrap_err();
    assert!(e.is_locked() && e.to_string().contains(KEYS_FILE), "{e}");
    assert!(data.open_log(Default::default()).unwrap_err().is_locked());
    assert!(data.open_snapshots().unwrap_err().is_locked());
    let e = data.unlock(&key()).unwrap_err();
    assert!(e.is_wrong_unlock_key(), "{e}");
    assert!(e.to_string().contains(KEYS_FILE), "{e}");
    assert!(data.is_locked());
    assert_eq!(std::fs::read(tmp.path().join(KEYS_FILE)).unwrap(), before);
    data.unlock(&k).unwrap();
    assert_eq!(data.unlock_key().unwrap(), &k);
}

#[test]
fn create_refuses_an_initialized_directory_and_open_an_empty_one() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        ManagerDataDir::open(tmp.path()),
        Err(DataDirError::NotInitialized { .. })
    ));
    ManagerDataDir::create(tmp.path(), None).unwrap();
    assert!(matches!(
        ManagerDataDir::create(tmp.path(), None),
        Err(DataDirError::AlreadyInitialized { .. })
    ));
    std::fs::write(tmp.path().join(KEYS_FILE), b"not keys").unwrap();
    let e = ManagerDataDir::open(tmp.path()).unwrap_err();
    assert!(matches!(e, DataDirError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains(KEYS_FILE));
    // A WAL without keys is someone's state too.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("wal")).unwrap();
    std::fs::write(other.path().join("wal").join("x"), b"1").unwrap();
    assert!(matches!(
        ManagerDataDir::create(other.path(), None),
        Err(DataDirError::AlreadyInitialized { .. })
    ));
}

/// A crash after the new keys file is staged but before it is renamed: the old key opens the
/// directory, the new one does not, and the staged file is removed at open.
#[test]
fn a_crash_before_the_rename_keeps_the_old_key() {
    let tmp = tempfile::tempdir().unwrap();
    let old = key();
    let new = key();
    let data = ManagerDataDir::create(tmp.path(), Some(&old)).unwrap();
    let change = data.keys().plan_unlock_key_rotation(&new).unwrap();
    stage_keys_file(tmp.path(), change.file()).unwrap();
    drop(data); // the crash
    assert!(tmp.path().join(KEYS_TMP_FILE).exists());

    let mut reopened = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(!tmp.path().join(KEYS_TMP_FILE).exists());
    assert!(reopened.unlock(&new).unwrap_err().is_wrong_unlock_key());
    reopened.unlock(&old).unwrap();
}

/// A crash after the rename but before the change was committed in memory: the new key
/// opens the directory, the old one is refused.
#[test]
fn a_crash_after_the_rename_takes_the_new_key() {
    let tmp = tempfile::tempdir().unwrap();
    let old = key();
    let new = key();
    let data = ManagerDataDir::create(tmp.path(), Some(&old)).unwrap();
    let sealed = data.cipher().unwrap().seal(b"kept", b"3").unwrap();
    let change = data.keys().plan_unlock_key_rotation(&new).unwrap();
    stage_keys_file(tmp.path(), change.file()).unwrap();
    install_staged_keys_file(tmp.path()).unwrap();
    drop(data); // the crash

    let mut reopened = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(reopened.unlock(&old).unwrap_err().is_wrong_unlock_key());
    reopened.unlock(&new).unwrap();
    assert_eq!(
        reopened.cipher().unwrap().open(&sealed, b"3").unwrap(),
        b"kept"
    );
}

#[test]
fn rotation_and_autolock_toggles_persist() {
    let tmp = tempfile::tempdir().unwrap();
    let mut data = ManagerDataDir::create(tmp.path(), None).unwrap();
    assert!(data.rotate_unlock_key(&key()).is_err());
    let first = key();
    data.enable_autolock(&first).unwrap();
    assert!(matches!(
        data.enable_autolock(&key()),
        Err(DataDirError::Keys {
            source: KeysError::AutolockAlreadyOn,
            ..
        })
    ));
    let second = key();
    data.rotate_unlock_key(&second).unwrap();
    assert_eq!(data.unlock_key().unwrap(), &second);
    drop(data);
    let mut data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(data.unlock(&first).unwrap_err().is_wrong_unlock_key());
    data.unlock(&second).unwrap();
    data.disable_autolock().unwrap();
    drop(data);
    let data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(!data.is_locked() && !data.autolock());
    assert!(!tmp.path().join(KEYS_TMP_FILE).exists());
    // Nothing else in the directory but the keys file.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![KEYS_FILE.to_owned()]);
    let _: &ManagerKeys = data.keys();
}

#[test]
fn match_unlock_key_writes_only_when_something_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut data = ManagerDataDir::create(tmp.path(), None).unwrap();
    let before = std::fs::read(tmp.path().join(KEYS_FILE)).unwrap();
    assert!(!data.match_unlock_key(None).unwrap());
    assert_eq!(std::fs::read(tmp.path().join(KEYS_FILE)).unwrap(), before);
    let k = key();
    assert!(data.match_unlock_key(Some(&k)).unwrap());
    assert!(!data.match_unlock_key(Some(&k)).unwrap());
    drop(data);
    let mut data = ManagerDataDir::open(tmp.path()).unwrap();
    data.unlock(&k).unwrap();
    assert!(data.match_unlock_key(None).unwrap());
    assert!(!ManagerDataDir::open(tmp.path()).unwrap().is_locked());
}
