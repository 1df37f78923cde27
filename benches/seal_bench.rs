//! Bench binary: keyring seal/open against ring's raw AES-256-GCM in the same process, then
//! certificate issuance, then open against ring plus the same wipe, and sealed delivery rates.
//! One line per scenario:
//!
//! ```text
//! seal size=65536 ours_mb_s=1234 ring_mb_s=1300 ratio=0.95
//! ```
//!
//! Run with `cargo run --release -p benches --bin seal_bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench binary: fail loudly

use std::hint::black_box;
use std::time::{Duration, Instant};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, DeliveryBinding, Keyring, NodeId, NodeKey, NodeSealKey, Role,
    UnlockKey, seal_for_node,
};

const SIZES: [usize; 3] = [1024, 64 * 1024, 500 * 1024];
const AAD: &[u8] = b"secret/0123456789abcdef@v42";
/// AES-256-GCM tag length: ring's baseline allocates its output exactly, as ours does.
const TAG_BYTES: usize = 16;
/// Sample pairs per scenario: ours and ring take turns (alternating who goes first), so both
/// see the same machine load.
const SAMPLE_PAIRS: usize = 300;
/// Target wall time of one sample of one side: short, so that many samples fall between the
/// preemptions of a busy machine.
const SAMPLE_TIME: Duration = Duration::from_micros(500);

/// Measures `ours` against `theirs` on `bytes`-sized inputs. Returns the throughput (bytes/s)
/// of each side's fastest sample, and their ratio ours/theirs. The fastest sample is the one
/// least disturbed by other processes: it is the figure that repeats from run to run on a
/// loaded machine.
fn compare(bytes: usize, mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (f64, f64, f64) {
    let iters = {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < SAMPLE_TIME * 2 {
            ours();
            theirs();
            n += 1;
        }
        n.max(1)
    };
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let (mut best_ours, mut best_theirs) = (f64::MAX, f64::MAX);
    for pair in 0..SAMPLE_PAIRS {
        if pair % 2 == 0 {
            best_ours = best_ours.min(time(&mut ours));
            best_theirs = best_theirs.min(time(&mut theirs));
        } else {
            best_theirs = best_theirs.min(time(&mut theirs));
            best_ours = best_ours.min(time(&mut ours));
        }
    }
    let total = bytes as f64 * iters as f64;
    (
        total / best_ours,
        total / best_theirs,
        best_theirs / best_ours,
    )
}

fn mb(bytes_per_s: f64) -> f64 {
    bytes_per_s / 1e6
}

fn main() {
    let key = UnlockKey::generate().unwrap();
    let keyring = Keyring::create(&key).unwrap();
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());

    for size in SIZES {
        let data = vec![0x5au8; size];
        let (ours, theirs, ratio) = compare(
            size,
            || {
                black_box(keyring.seal(black_box(&data), AAD).unwrap());
            },
            || {
                let mut buf = Vec::with_capacity(size + TAG_BYTES);
                buf.extend_from_slice(black_box(&data));
                raw.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key([1u8; 12]),
                    Aad::from(AAD),
                    &mut buf,
                )
                .unwrap();
                black_box(buf);
            },
        );
        println!(
            "seal size={size} ours_mb_s={:.0} ring_mb_s={:.0} ratio={:.2}",
            mb(ours),
            mb(theirs),
            ratio
        );
    }

    bench_open(&keyring, &raw, false);

    // Certificate issuance from a CSR (parse + verify CSR, sign with ECDSA P-256).
    let ca = ClusterCa::generate(ClusterId::new("bench").unwrap(), CertPolicy::default()).unwrap();
    let csr = NodeKey::generate().unwrap().csr_der().unwrap();
    let node = NodeId::new("node-1").unwrap();
    let mut best = 0f64;
    for _ in 0..7 {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed() < SAMPLE_TIME * 300 {
            black_box(ca.issue(&csr, &node, Role::Worker).unwrap());
            n += 1;
        }
        best = best.max(n as f64 / t.elapsed().as_secs_f64());
    }
    println!("issue certs_per_s={best:.0}");

    // The same open, against ring followed by the wipe our `SecretBytes` does on drop: this
    // separates the keyring's own overhead from the cost of the hygiene itself.
    bench_open(&keyring, &raw, true);

    // Sealed delivery: one X25519 agreement + HKDF + AES-GCM per item (sender), the node's
    // static-key agreement + open (receiver).
    let node_key = NodeSealKey::generate().unwrap();
    let binding = DeliveryBinding::new(
        NodeId::new("node-1").unwrap(),
        ["task-1", "task-2"],
        "secret/x@1",
    )
    .unwrap();
    for size in [1024usize, 64 * 1024] {
        let data = vec![0x33u8; size];
        let sealed = seal_for_node(&node_key.public_key(), &binding, &data).unwrap();
        let (seal_bps, open_bps, _) = compare(
            size,
            || {
                black_box(seal_for_node(&node_key.public_key(), &binding, &data).unwrap());
            },
            || {
                black_box(node_key.open(&sealed, &binding).unwrap());
            },
        );
        println!(
            "deliver size={size} seal_per_s={:.0} open_per_s={:.0}",
            seal_bps / size as f64,
            open_bps / size as f64
        );
    }
}

/// Keyring open against ring's raw open of the same ciphertext, one line per size; with `wipe`
/// ring's output is zeroized afterwards as our `SecretBytes` is on drop.
fn bench_open(keyring: &Keyring, raw: &LessSafeKey, wipe: bool) {
    for size in SIZES {
        let data = vec![0x5au8; size];
        let blob = keyring.seal(&data, AAD).unwrap();
        let mut sealed_raw = data.clone();
        raw.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([1u8; 12]),
            Aad::from(AAD),
            &mut sealed_raw,
        )
        .unwrap();
        let (ours, theirs, ratio) = compare(
            size,
            || {
                black_box(keyring.open(black_box(&blob), AAD).unwrap());
            },
            || {
                let mut buf = black_box(&sealed_raw).to_vec();
                let len = raw
                    .open_in_place(
                        Nonce::assume_unique_for_key([1u8; 12]),
                        Aad::from(AAD),
                        &mut buf,
                    )
                    .unwrap()
                    .len();
                buf.truncate(len);
                black_box(&buf);
                if wipe {
                    zeroize::Zeroize::zeroize(buf.as_mut_slice());
                    zeroize::Zeroize::zeroize(buf.spare_capacity_mut());
                }
            },
        );
        if wipe {
            println!(
                "open_vs_ring_wiped size={size} ours_mb_s={:.0} ring_wiped_mb_s={:.0} ratio={:.2}",
                mb(ours),
                mb(theirs),
                ratio
            );
        } else {
            println!(
                "open size={size} ours_mb_s={:.0} ring_mb_s={:.0} ratio={:.2}",
                mb(ours),
                mb(theirs),
                ratio
            );
        }
    }
}
