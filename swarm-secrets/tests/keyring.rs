//! Envelope encryption and autolock: every failure is an error, never plaintext.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use swarm_secrets::limits::{MAX_ASSOCIATED_DATA_BYTES, MAX_KEYRING_PLAINTEXT_BYTES};
use swarm_secrets::{Keyring, SealedBlob, SecretsError, UnlockKey};

fn keyring() -> (UnlockKey, Keyring) {
    let key = UnlockKey::generate().unwrap();
    let ring = Keyring::create(&key).unwrap();
    (key, ring)
}

#[test]
fn seal_open_round_trip_and_associated_data_is_checked() {
    let (_, ring) = keyring();
    let blob = ring.seal(b"top secret", b"secret/a@v1").unwrap();
    assert_eq!(blob.plaintext_len(), 10);
    assert_eq!(
        ring.open(&blob, b"secret/a@v1").unwrap().expose_secret(),
        b"top secret"
    );
    // Swapping a blob to another object, or another version, fails.
    for aad in [&b"secret/b@v1"[..], b"secret/a@v2", b"", b"secret/a@v1\0"] {
        assert!(matches!(
            ring.open(&blob, aad),
            Err(SecretsError::DecryptionFailed { .. })
        ));
    }
    // Empty plaintext is fine.
    let empty = ring.seal(b"", b"x").unwrap();
    assert!(ring.open(&empty, b"x").unwrap().is_empty());
}

#[test]
fn two_seals_of_the_same_value_differ() {
    let (_, ring) = keyring();
    let a = ring.seal(b"same", b"ad").unwrap();
    let b = ring.seal(b"same", b"ad").unwrap();
    assert_ne!(a.as_bytes(), b.as_bytes(), "fresh nonce per seal");
}

#[test]
fn another_keyring_cannot_open() {
    let (_, ring) = keyring();
    let (_, other) = keyring();
    let blob = ring.seal(b"v", b"ad").unwrap();
    // Same key id (1) in both keyrings, different keys.
    assert!(matches!(
        other.open(&blob, b"ad"),
        Err(SecretsError::DecryptionFailed { .. })
    ));
}

#[test]
fn locked_keyring_refuses_and_wrong_key_is_a_clear_error() {
    let (key, mut ring) = keyring();
    let blob = ring.seal(b"value", b"ad").unwrap();
    let exported = ring.export().unwrap();

    ring.lock().unwrap();
    assert!(ring.is_locked());
    let e = ring.open(&blob, b"ad").unwrap_err();
    assert!(matches!(e, SecretsError::Locked) && e.is_retryable(), "{e}");
    assert!(matches!(ring.seal(b"x", b"ad"), Err(SecretsError::Locked)));
    assert!(matches!(
        ring.open_bytes(blob.as_bytes(), b"ad"),
        Err(SecretsError::Locked)
    ));
    assert!(matches!(ring.rotate_dek(), Err(SecretsError::Locked)));
    // Export still works while locked, and is the same keyring.
    assert_eq!(ring.export().unwrap(), exported);

    let wrong = UnlockKey::generate().unwrap();
    let e = ring.unlock(&wrong).unwrap_err();
    assert!(matches!(e, SecretsError::WrongUnlockKey), "{e}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("wrong unlock key"));
    assert!(ring.is_locked());

    ring.unlock(&key).unwrap();
    assert_eq!(ring.open(&blob, b"ad").unwrap().expose_secret(), b"value");
    // Unlocking again with the wrong key is still refused.
    assert!(matches!(
        ring.unlock(&wrong),
        Err(SecretsError::WrongUnlockKey)
    ));
}

#[test]
fn export_import_round_trip_through_the_human_readable_key() {
    let (key, ring) = keyring();
    let blob = ring.seal(b"persisted", b"ad").unwrap();
    let stored = ring.export().unwrap();
    let typed = key.expose_human_readable();
    let mut loaded = Keyring::from_exported(&stored).unwrap();
    assert!(loaded.is_locked());
    assert_eq!(loaded.key_ids(), vec![1]);
    loaded.unlock(&UnlockKey::parse(&typed).unwrap()).unwrap();
    let reparsed = SealedBlob::from_bytes(blob.clone().into_bytes()).unwrap();
    assert_eq!(
        loaded.open(&reparsed, b"ad").unwrap().expose_secret(),
        b"persisted"
    );
}

#[test]
fn tampered_export_is_rejected() {
    let (key, ring) = keyring();
    let stored = ring.export().unwrap();
    for i in 0..stored.len() {
        let mut bad = stored.clone();
        bad[i] ^= 0x01;
        match Keyring::from_exported(&bad) {
            Err(_) => {}
            Ok(mut k) => assert!(k.unlock(&key).is_err(), "flipped byte {i} accepted"),
        }
    }
    for len in 0..stored.len() {
        match Keyring::from_exported(&stored[..len]) {
            Err(_) => {}
            Ok(mut k) => assert!(k.unlock(&key).is_err(), "truncation to {len} accepted"),
        }
    }
}

#[test]
fn dek_rotation_new_writes_use_new_key_old_blobs_still_open() {
    let (key, mut ring) = keyring();
    let old = ring.seal(b"old", b"o").unwrap();
    assert_eq!(old.key_id(), 1);
    let new_id = ring.rotate_dek().unwrap();
    assert_eq!(new_id, 2);
    assert_eq!(ring.active_key_id(), 2);
    let new = ring.seal(b"new", b"n").unwrap();
    assert_eq!(new.key_id(), 2);
    assert_eq!(ring.open(&old, b"o").unwrap().expose_secret(), b"old");

    // Re-encrypt the old blob, then retire the old key.
    let re = ring
        .reencrypt(&old, b"o")
        .unwrap()
        .expect("old blob needs re-encryption");
    assert_eq!(re.key_id(), 2);
    assert!(ring.reencrypt(&re, b"o").unwrap().is_none());
    assert!(ring.retire_dek(2).is_err(), "active key cannot be retired");
    ring.retire_dek(1).unwrap();
    assert!(matches!(
        ring.open(&old, b"o"),
        Err(SecretsError::UnknownKey { key_id: 1 })
    ));
    assert_eq!(ring.open(&re, b"o").unwrap().expose_secret(), b"old");

    // The rotation survives export and unlock.
    let mut loaded = Keyring::from_exported(&ring.export().unwrap()).unwrap();
    loaded.unlock(&key).unwrap();
    assert_eq!(loaded.key_ids(), vec![2]);
    assert_eq!(loaded.open(&new, b"n").unwrap().expose_secret(), b"new");
    assert_eq!(loaded.seal(b"z", b"z").unwrap().key_id(), 2);
    assert_eq!(loaded.rotate_dek().unwrap(), 3, "key ids are never reused");
}

#[test]
fn unlock_key_rotation_rewraps_without_touching_data() {
    let (old_key, mut ring) = keyring();
    ring.rotate_dek().unwrap();
    let blob = ring.seal(b"data", b"ad").unwrap();
    let before = ring.export().unwrap();
    let new_key = UnlockKey::generate().unwrap();
    ring.rotate_unlock_key(&new_key).unwrap();
    // Data untouched: the same blob still opens.
    assert_eq!(ring.open(&blob, b"ad").unwrap().expose_secret(), b"data");
    let after = ring.export().unwrap();
    assert_ne!(before, after);

    let mut with_old = Keyring::from_exported(&after).unwrap();
    assert!(matches!(
        with_old.unlock(&old_key),
        Err(SecretsError::WrongUnlockKey)
    ));
    let mut with_new = Keyring::from_exported(&after).unwrap();
    with_new.unlock(&new_key).unwrap();
    assert_eq!(
        with_new.open(&blob, b"ad").unwrap().expose_secret(),
        b"data"
    );
    assert_eq!(with_new.key_ids(), vec![1, 2]);
}

#[test]
fn size_limits_are_enforced() {
    let (_, ring) = keyring();
    let max = vec![1u8; MAX_KEYRING_PLAINTEXT_BYTES];
    let blob = ring.seal(&max, b"ad").unwrap();
    assert_eq!(
        ring.open(&blob, b"ad").unwrap().len(),
        MAX_KEYRING_PLAINTEXT_BYTES
    );
    let e = ring
        .seal(&vec![1u8; MAX_KEYRING_PLAINTEXT_BYTES + 1], b"ad")
        .unwrap_err();
    assert!(
        matches!(
            e,
            SecretsError::TooLarge {
                what: "plaintext",
                ..
            }
        ),
        "{e}"
    );
    let e = ring
        .seal(b"x", &vec![0u8; MAX_ASSOCIATED_DATA_BYTES + 1])
        .unwrap_err();
    assert!(matches!(
        e,
        SecretsError::TooLarge {
            what: "associated data",
            ..
        }
    ));
    let mut too_big = blob.into_bytes();
    too_big.push(0);
    assert!(matches!(
        SealedBlob::from_bytes(too_big),
        Err(SecretsError::TooLarge { .. })
    ));
}

#[test]
fn debug_output_contains_no_secret_bytes() {
    let (key, ring) = keyring();
    let secret = b"SUPER-SECRET-PASSWORD-0123456789";
    let blob = ring.seal(secret, b"ad").unwrap();
    let opened = ring.open(&blob, b"ad").unwrap();
    let human = key.expose_human_readable();
    let printed = format!("{ring:?} {key:?} {opened:?} {blob:?}");
    assert!(!printed.contains("SUPER-SECRET"), "{printed}");
    assert!(!printed.contains(&human[9..]), "{printed}");
    // No byte sequence of the secret or key of length 4 or more appears, in text or as numbers.
    for window in secret.windows(4) {
        assert!(
            !printed.as_bytes().windows(4).any(|w| w == window),
            "{printed}"
        );
    }
    let key_bytes = format!("{:?}", key.expose_bytes());
    assert!(!printed.contains(&key_bytes[1..key_bytes.len() - 1]));
    assert!(printed.contains("REDACTED"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_flipped_bit_is_an_error(data in proptest::collection::vec(any::<u8>(), 0..512), bit in any::<usize>()) {
        let (_, ring) = keyring();
        let blob = ring.seal(&data, b"object-7@v3").unwrap();
        let mut bytes = blob.into_bytes();
        let bit = bit % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(ring.open_bytes(&bytes, b"object-7@v3").is_err());
    }

    #[test]
    fn any_truncation_or_extension_is_an_error(data in proptest::collection::vec(any::<u8>(), 0..512), cut in any::<usize>(), extra in 1usize..32) {
        let (_, ring) = keyring();
        let bytes = ring.seal(&data, b"ad").unwrap().into_bytes();
        let cut = cut % bytes.len();
        prop_assert!(ring.open_bytes(&bytes[..cut], b"ad").is_err());
        let mut longer = bytes.clone();
        longer.extend(std::iter::repeat_n(0u8, extra));
        prop_assert!(ring.open_bytes(&longer, b"ad").is_err());
    }

    #[test]
    fn wrong_associated_data_is_an_error(data in proptest::collection::vec(any::<u8>(), 0..64), ad in proptest::collection::vec(any::<u8>(), 0..64), other in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(ad != other);
        let (_, ring) = keyring();
        let blob = ring.seal(&data, &ad).unwrap();
        prop_assert!(ring.open(&blob, &other).is_err());
        let opened = ring.open(&blob, &ad).unwrap();
        prop_assert_eq!(opened.expose_secret(), data.as_slice());
    }
}

#[test]
fn nonces_never_repeat_within_an_instance_and_differ_across_instances() {
    use std::collections::HashSet;
    let (key, ring) = keyring();
    let nonce = |b: &SealedBlob| b.as_bytes()[6..18].to_vec();
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        assert!(seen.insert(nonce(&ring.seal(b"x", b"ad").unwrap())));
    }
    // Another instance of the same DEK (after export and unlock) starts elsewhere.
    let mut other = Keyring::from_exported(&ring.export().unwrap()).unwrap();
    other.unlock(&key).unwrap();
    for _ in 0..1_000 {
        assert!(seen.insert(nonce(&other.seal(b"x", b"ad").unwrap())));
    }
}

#[test]
fn concurrent_seals_get_distinct_nonces() {
    use std::collections::HashSet;
    use std::sync::Arc;
    let (_, ring) = keyring();
    let ring = Arc::new(ring);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                (0..2_000)
                    .map(|i| {
                        let ad = format!("t{t}/{i}");
                        let blob = ring.seal(ad.as_bytes(), ad.as_bytes()).unwrap();
                        assert_eq!(
                            ring.open(&blob, ad.as_bytes()).unwrap().expose_secret(),
                            ad.as_bytes()
                        );
                        blob.as_bytes()[6..18].to_vec()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for h in handles {
        for n in h.join().unwrap() {
            assert!(seen.insert(n), "nonce reused across threads");
        }
    }
    assert_eq!(seen.len(), 8_000);
}

#[test]
fn long_associated_data_takes_the_heap_path_and_is_still_bound() {
    let (_, ring) = keyring();
    let ad = vec![9u8; 1000];
    let blob = ring.seal(b"v", &ad).unwrap();
    assert_eq!(ring.open(&blob, &ad).unwrap().expose_secret(), b"v");
    let mut other = ad.clone();
    other[999] = 8;
    assert!(ring.open(&blob, &other).is_err());
}

/// Issue 12, item 7: an older export still unlocks with the same key and would bring retired
/// keys back; the authenticated epoch lets the caller refuse it, and a locked keyring gives
/// out no epoch.
#[test]
fn item7_an_older_export_is_refused_by_epoch_and_the_epoch_is_authenticated() {
    let (key, mut ring) = keyring();
    assert_eq!(ring.epoch().unwrap(), 0);
    let old_blob = ring.seal(b"old", b"ad").unwrap();
    let before_rotation = ring.export().unwrap();
    ring.rotate_dek().unwrap();
    assert_eq!(ring.epoch().unwrap(), 1);
    let re = ring.reencrypt(&old_blob, b"ad").unwrap().unwrap();
    let before_retirement = ring.export().unwrap();
    ring.retire_dek(1).unwrap();
    assert_eq!(ring.epoch().unwrap(), 2);
    let current = ring.export().unwrap();
    let min_epoch = ring.epoch().unwrap();

    // Without a minimum an older export still unlocks and holds the retired key again.
    let mut stale = Keyring::from_exported(&before_retirement).unwrap();
    stale.unlock(&key).unwrap();
    assert_eq!(stale.key_ids(), vec![1, 2]);
    // With one, both older exports are refused after authentication, and stay locked.
    for old in [&before_rotation, &before_retirement] {
        let mut k = Keyring::from_exported(old).unwrap();
        let e = k.unlock_with_min_epoch(&key, min_epoch).unwrap_err();
        assert!(
            matches!(e, SecretsError::StaleKeyring { min_epoch: 2, epoch } if epoch < 2),
            "{e}"
        );
        assert!(!e.is_retryable());
        assert!(k.is_locked());
        assert!(matches!(
            k.open(&old_blob, b"ad"),
            Err(SecretsError::Locked)
        ));
    }
    let mut fresh = Keyring::from_exported(&current).unwrap();
    // Locked: no epoch is given out (it is not authenticated yet).
    assert!(matches!(fresh.epoch(), Err(SecretsError::Locked)));
    assert_eq!(fresh.unlock_with_min_epoch(&key, min_epoch).unwrap(), 2);
    assert_eq!(fresh.epoch().unwrap(), 2);
    assert_eq!(fresh.open(&re, b"ad").unwrap().expose_secret(), b"old");
    // Already unlocked: the minimum still applies.
    assert!(matches!(
        fresh.unlock_with_min_epoch(&key, 3),
        Err(SecretsError::StaleKeyring {
            epoch: 2,
            min_epoch: 3
        })
    ));

    // The epoch is under the MAC: raising it in the stored bytes breaks the unlock.
    let mut forged = current.clone();
    let mac_start = forged.len() - 32;
    let epoch_at = mac_start - 1; // postcard varint of a small epoch: the last body byte
    assert_eq!(forged[epoch_at], 2);
    forged[epoch_at] = 9;
    let mut k = Keyring::from_exported(&forged).unwrap();
    assert!(matches!(
        k.unlock_with_min_epoch(&key, 9),
        Err(SecretsError::DecryptionFailed { .. })
    ));

    // Unlock key rotation bumps it too.
    let new_key = UnlockKey::generate().unwrap();
    ring.rotate_unlock_key(&new_key).unwrap();
    assert_eq!(ring.epoch().unwrap(), 3);
}
