//! Criterion bench: keyring seal/open against ring's raw AES-256-GCM, same sizes, same run.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use swarm_secrets::{Keyring, UnlockKey};

const SIZES: [usize; 3] = [1024, 64 * 1024, 500 * 1024];
const AAD: &[u8] = b"secret/0123456789abcdef@v42";
/// AES-256-GCM tag length: ring's baseline allocates its output exactly, as ours does.
const TAG_BYTES: usize = 16;

fn bench(c: &mut Criterion) {
    let key = UnlockKey::generate().expect("rng");
    let keyring = Keyring::create(&key).expect("keyring");
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("key"));

    let mut seal = c.benchmark_group("seal");
    for size in SIZES {
        let data = vec![0x5au8; size];
        seal.throughput(Throughput::Bytes(size as u64));
        seal.bench_with_input(BenchmarkId::new("ours", size), &data, |b, d| {
            b.iter(|| keyring.seal(black_box(d), AAD).expect("seal"))
        });
        seal.bench_with_input(BenchmarkId::new("ring", size), &data, |b, d| {
            b.iter(|| {
                let mut buf = Vec::with_capacity(d.len() + TAG_BYTES);
                buf.extend_from_slice(black_box(d));
                raw.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key([1u8; 12]),
                    Aad::from(AAD),
                    &mut buf,
                )
                .expect("seal");
                buf
            })
        });
    }
    seal.finish();

    let mut open = c.benchmark_group("open");
    for size in SIZES {
        let data = vec![0x5au8; size];
        let blob = keyring.seal(&data, AAD).expect("seal");
        let mut sealed_raw = data.clone();
        raw.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([1u8; 12]),
            Aad::from(AAD),
            &mut sealed_raw,
        )
        .expect("seal");
        open.throughput(Throughput::Bytes(size as u64));
        open.bench_with_input(BenchmarkId::new("ours", size), &blob, |b, blob| {
            b.iter(|| keyring.open(black_box(blob), AAD).expect("open"))
        });
        open.bench_with_input(BenchmarkId::new("ring", size), &sealed_raw, |b, s| {
            b.iter(|| {
                let mut buf = black_box(s).to_vec();
                let len = raw
                    .open_in_place(
                        Nonce::assume_unique_for_key([1u8; 12]),
                        Aad::from(AAD),
                        &mut buf,
                    )
                    .expect("open")
                    .len();
                buf.truncate(len);
                buf
            })
        });
    }
    open.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
