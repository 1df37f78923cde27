//! Crash test: a child process writes to disk storage and reports every acknowledged write over
//! a pipe; the parent SIGKILLs it at random moments, reopens the log and proves that every
//! acknowledged write is present with the right bytes and that nothing else is served.
//!
//! Half the kills also simulate a power loss: the last write group, when the parent never saw
//! it acknowledged, is cut short or gets a flipped byte, and recovery must cut it.
//!
//! The child is this test binary itself, re-executed with `CRASH_CHILD_ENV` set, running the
//! ignored test `crash_child`. The seed is printed; `SWARM_CRASH_SEED=<n>` replays a run and
//! `SWARM_CRASH_CYCLES=<n>` changes the number of kills (default `DEFAULT_CYCLES`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use swarm_store::storage::disk::{DiskLogOptions, DiskLogStorage};
use swarm_store::storage::{AppendTicket, LogPosition, LogRecord, LogStorage};

const CRASH_CHILD_ENV: &str = "SWARM_STORE_CRASH_CHILD";
/// Kills per run of the test.
const DEFAULT_CYCLES: u64 = 60;
/// Appends the child keeps in flight before it waits for the oldest.
const CHILD_MAX_IN_FLIGHT: usize = 24;
/// A child that was never killed stops by itself after this long.
const CHILD_MAX_RUN: Duration = Duration::from_secs(20);
/// How long the parent waits for the child to open its log.
const CHILD_OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// The child is killed at a random moment within this long after it opened its log.
const KILL_WINDOW_MS: u64 = 60;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The payload of record (index, term): its bytes and length follow from the position, so the
/// parent can check every byte it reads back.
fn payload(index: u64, term: u64) -> Vec<u8> {
    let mut rng = Rng::new(index ^ (term << 32));
    let len = match rng.below(50) {
        0 => 20_000 + rng.below(30_000),
        1 => 0,
        _ => rng.below(1_500),
    } as usize;
    (0..len).map(|_| rng.next() as u8).collect()
}

fn options() -> DiskLogOptions {
    // Small segments so the child rolls and purges segments often; a small cache so reads of
    // older records come from the files.
    DiskLogOptions::default()
        .with_segment_bytes(64 << 10)
        .with_cache_bytes(256 << 10)
}

fn poll_now(ticket: &mut AppendTicket) -> Poll<Result<(), swarm_store::storage::StorageError>> {
    Pin::new(ticket).poll(&mut Context::from_waker(Waker::noop()))
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    // A failed write means the parent is gone: stop.
    if writeln!(out, "@@{line}")
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(3);
    }
}

/// The child: writes until killed (or `CHILD_MAX_RUN`), reporting intents and acknowledgements.
async fn child(dir: &Path, seed: u64, mut term: u64) {
    let log = match DiskLogStorage::open(dir, options()) {
        Ok(log) => log,
        Err(e) => {
            say(format!("E open: {e}"));
            std::process::exit(2);
        }
    };
    let mut rng = Rng::new(seed);
    let fail = |what: &str, e: swarm_store::storage::StorageError| -> ! {
        say(format!("E {what}: {e}"));
        std::process::exit(2);
    };
    let state = log.state().await.unwrap_or_else(|e| fail("state", e));
    say(format!("O {:?}", state.last));
    let mut next = state.last.map_or(1, |p| p.index + 1);
    let mut pending: VecDeque<(u64, u64, u64, AppendTicket)> = VecDeque::new();
    let started = Instant::now();
    while started.elapsed() < CHILD_MAX_RUN {
        // Report acknowledgements as soon as they arrive, in order.
        while let Some(front) = pending.front_mut() {
            match poll_now(&mut front.3) {
                Poll::Ready(Ok(())) => {
                    let (first, last, t, _) = pending.pop_front().expect("front exists");
                    say(format!("A {first} {last} {t}"));
                }
                Poll::Ready(Err(e)) => fail("append ticket", e),
                Poll::Pending => break,
            }
        }
        let roll = rng.below(100);
        if roll < 88 || pending.len() < 2 && roll < 92 {
            let n = 1 + rng.below(8);
            let (first, last) = (next, next + n - 1);
            let records = (first..=last)
                .map(|i| LogRecord {
                    index: i,
                    term,
                    payload: payload(i, term).into(),
                })
                .collect();
            say(format!("a {first} {last} {term}"));
            let ticket = log
                .append(records)
                .await
                .unwrap_or_else(|e| fail("append", e));
            pending.push_back((first, last, term, ticket));
            next = last + 1;
            if pending.len() >= CHILD_MAX_IN_FLIGHT {
                let (first, last, t, ticket) = pending.pop_front().expect("not empty");
                ticket.await.unwrap_or_else(|e| fail("append ticket", e));
                say(format!("A {first} {last} {t}"));
            }
            tokio::task::yield_now().await;
            continue;
        }
        // Every other operation starts after all appends are acknowledged, so the parent sees
        // a simple sequence.
        while let Some((first, last, t, ticket)) = pending.pop_front() {
            ticket.await.unwrap_or_else(|e| fail("append ticket", e));
            say(format!("A {first} {last} {t}"));
        }
        let state = log.state().await.unwrap_or_else(|e| fail("state", e));
        let purged = state.last_purged.map_or(0, |p| p.index);
        let last = state.last.map_or(0, |p| p.index);
        if roll < 95 {
            if last > purged + 1 {
                let at = purged + 1 + rng.below(last - purged);
                say(format!("t {at}"));
                log.truncate(at)
                    .await
                    .unwrap_or_else(|e| fail("truncate", e));
                say(format!("T {at}"));
                term += 1; // a new leader rewrites the tail
            }
        } else if roll < 98 {
            let at = purged + 1 + rng.below(last.saturating_sub(purged) + 3);
            say(format!("p {at} {term}"));
            log.purge(LogPosition { term, index: at })
                .await
                .unwrap_or_else(|e| fail("purge", e));
            say(format!("P {at} {term}"));
        } else {
            let vote = format!("vote-{}", rng.next());
            say(format!("v {vote}"));
            log.save_vote(vote.as_bytes())
                .await
                .unwrap_or_else(|e| fail("vote", e));
            say(format!("V {vote}"));
        }
        let state = log.state().await.unwrap_or_else(|e| fail("state", e));
        next = state.last.map_or(1, |p| p.index + 1);
        if let Some(c) = state.last {
            log.save_committed(Some(c))
                .await
                .unwrap_or_else(|e| fail("committed", e));
        }
    }
}

#[test]
#[ignore = "the child process of acknowledged_writes_survive_sigkill; does nothing by itself"]
fn crash_child() {
    let Ok(spec) = std::env::var(CRASH_CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '|');
    let (Some(seed), Some(term), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("bad {CRASH_CHILD_ENV}: {spec}");
    };
    let seed: u64 = seed.parse().expect("seed");
    let term: u64 = term.parse().expect("term");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(child(Path::new(dir), seed, term));
}

/// What the parent knows from the child's reports.
#[derive(Default)]
struct Model {
    /// Records that may be on disk: index → terms.
    possible: BTreeMap<u64, BTreeSet<u64>>,
    /// Records that must be on disk unless purged: index → term.
    required: BTreeMap<u64, u64>,
    /// The purge point acknowledged so far.
    acked_purge: u64,
    /// Votes the log may hold: the last acknowledged one and any attempted after it.
    votes: BTreeSet<Option<String>>,
}

impl Model {
    fn apply(&mut self, line: &str) -> Result<(), String> {
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or_default();
        let nums: Vec<u64> = words.clone().filter_map(|w| w.parse().ok()).collect();
        let num = |i: usize| {
            nums.get(i)
                .copied()
                .ok_or_else(|| format!("bad report {line:?}"))
        };
        match tag {
            "O" => {}
            "E" => return Err(format!("child failed: {line}")),
            "a" => {
                for i in num(0)?..=num(1)? {
                    self.possible.entry(i).or_default().insert(num(2)?);
                }
            }
            "A" => {
                for i in num(0)?..=num(1)? {
                    self.required.insert(i, num(2)?);
                }
            }
            "t" => {
                let at = num(0)?;
                self.required.retain(|i, _| *i < at);
            }
            "T" => {
                let at = num(0)?;
                self.possible.retain(|i, _| *i < at);
            }
            "p" => {
                let at = num(0)?;
                self.required.retain(|i, _| *i > at);
            }
            "P" => self.acked_purge = self.acked_purge.max(num(0)?),
            "v" => {
                self.votes.insert(words.next().map(str::to_string));
            }
            "V" => {
                self.votes = BTreeSet::from([words.next().map(str::to_string)]);
            }
            other => return Err(format!("unknown report {other:?} in {line:?}")),
        }
        Ok(())
    }
}

/// Opens the log after a crash and checks it against the model; then resets the model to
/// what is on disk (the next child continues from there). Returns the bytes of torn tail cut.
async fn verify(dir: &Path, model: &mut Model, cycle: u64) -> Result<u64, String> {
    let log = DiskLogStorage::open(dir, options()).map_err(|e| format!("reopen: {e}"))?;
    let state = log.state().await.map_err(|e| e.to_string())?;
    let records = log
        .read(0..=u64::MAX)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let purged = state.last_purged.map_or(0, |p| p.index);
    if purged < model.acked_purge {
        return Err(format!(
            "purge point {purged} is below the acknowledged {}",
            model.acked_purge
        ));
    }
    let vote = log.read_vote().await.map_err(|e| e.to_string())?;
    let vote = vote.map(|v| String::from_utf8_lossy(&v).into_owned());
    if !model.votes.contains(&vote) {
        return Err(format!("vote {vote:?} is none of {:?}", model.votes));
    }
    for pair in records.windows(2) {
        if pair[1].index != pair[0].index + 1 {
            return Err(format!(
                "gap between {} and {}",
                pair[0].index, pair[1].index
            ));
        }
    }
    if records.first().is_some_and(|r| r.index <= purged) {
        return Err("a purged record is served".into());
    }
    let last = records.last().map(|r| r.position()).or(state.last_purged);
    if state.last != last {
        return Err(format!(
            "state says last {:?}, records end at {last:?}",
            state.last
        ));
    }
    for r in &records {
        if !model
            .possible
            .get(&r.index)
            .is_some_and(|t| t.contains(&r.term))
        {
            return Err(format!(
                "record {}/{} was never appended (or was truncated)",
                r.index, r.term
            ));
        }
        if r.payload != payload(r.index, r.term) {
            return Err(format!("record {}/{} has the wrong bytes", r.index, r.term));
        }
    }
    let present: BTreeMap<u64, u64> = records.iter().map(|r| (r.index, r.term)).collect();
    for (index, term) in model.required.range(purged + 1..) {
        if present.get(index) != Some(term) {
            return Err(format!(
                "acknowledged record {index}/{term} is missing (found {:?}) after crash {cycle}",
                present.get(index)
            ));
        }
    }
    model.possible = present
        .iter()
        .map(|(i, t)| (*i, BTreeSet::from([*t])))
        .collect();
    model.required = present;
    model.acked_purge = purged;
    model.votes = BTreeSet::from([vote]);
    Ok(log.stats().recovered_cut_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b) as usize
}

/// Simulates a power loss on top of the kill: damages the last write group of the last
/// segment (zeros from a random point on, as in preallocated space; a hole of zeros inside it,
/// as pages written out of order leave it, or the file cut short where the group grew it past
/// its preallocated size, the only place a crash can leave a segment short; or one byte
/// flipped) when the parent never saw that group acknowledged, as a torn write would. Uses the
/// documented layout: a 28-byte segment header whose bytes 16..24 are the preallocated size,
/// then groups; a frame is `magic | body_len u32 | crc u32 | kind u8 | a u64 |
/// b u64 | payload`; a group starts with a kind-5 frame whose `b` is the group's length after it.
fn tear_unacknowledged_tail(dir: &Path, lines: &[String], rng: &mut Rng) {
    // The last acknowledged append, if nothing durable (a truncate) was acknowledged after it.
    let Some(last_ack) = lines.iter().rposition(|l| l.starts_with('A')) else {
        return;
    };
    if lines[last_ack..].iter().any(|l| l.starts_with('T')) {
        return;
    }
    let nums: Vec<u64> = lines[last_ack]
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (last, term) = (nums[1], nums[2]);
    let mut segments: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    segments.sort();
    let Some(segment) = segments.pop() else {
        return;
    };
    let bytes = std::fs::read(&segment).expect("read segment");
    let (mut pos, mut acked_group_end, mut last_group_start) = (28, None, None);
    while pos + 29 <= bytes.len() && bytes[pos + 12] == 5 {
        let group_end = pos + 29 + u64_at(&bytes, pos + 21) as usize;
        if group_end > bytes.len() {
            break;
        }
        let mut at = pos + 29;
        while at < group_end {
            let (kind, a, b) = (
                bytes[at + 12],
                u64_at(&bytes, at + 13),
                u64_at(&bytes, at + 21),
            );
            if kind == 1 && a == last && b == term {
                acked_group_end = Some(group_end);
            }
            at += 12 + u32_at(&bytes, at + 4);
        }
        last_group_start = Some(pos);
        pos = group_end;
    }
    let (Some(acked_end), Some(start)) = (acked_group_end, last_group_start) else {
        return; // the acknowledged record is in an earlier segment: leave this one alone
    };
    if start < acked_end || bytes[pos..].iter().any(|b| *b != 0) {
        return; // the last group was acknowledged, or the file does not parse as expected
    }
    // `pos` is where the data ends; the rest of the segment is preallocated zeros.
    let span = (pos - start) as u64;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .expect("open segment");
    let choice = rng.below(3);
    if choice == 0 {
        // The end of the group never reached the preallocated space: zeros from a random point.
        let at = start as u64 + rng.below(span);
        let zeros = vec![0; pos - at as usize];
        std::os::unix::fs::FileExt::write_all_at(&file, &zeros, at).expect("zero");
    } else if choice == 1 {
        let preallocated = u64_at(&bytes, 16) as usize;
        let from = start.max(preallocated);
        if from < pos {
            // The group grew the file: a power loss may leave it anywhere past the
            // preallocated size.
            file.set_len((from as u64) + rng.below((pos - from) as u64))
                .expect("cut");
        } else {
            let at = start as u64 + rng.below(span);
            let len = 1 + rng.below((pos as u64 - at).min(4096));
            let zeros = vec![0; len as usize];
            std::os::unix::fs::FileExt::write_all_at(&file, &zeros, at).expect("hole");
        }
    } else {
        let at = start as u64 + rng.below(span);
        let mut damaged = bytes[at as usize..=at as usize].to_vec();
        damaged[0] ^= 1 << rng.below(8);
        std::os::unix::fs::FileExt::write_all_at(&file, &damaged, at).expect("flip");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let seed = std::env::var("SWARM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let cycles = std::env::var("SWARM_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CYCLES);
    eprintln!("crash test seed {seed} ({cycles} cycles); replay with SWARM_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary path");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rng = Rng::new(seed);
    let mut model = Model {
        votes: BTreeSet::from([None]),
        ..Model::default()
    };
    let mut acked_total = 0u64;
    let (mut truncates, mut purges, mut torn_tails) = (0u64, 0u64, 0u64);
    for cycle in 0..cycles {
        let child_seed = rng.next();
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(
                CRASH_CHILD_ENV,
                format!(
                    "{child_seed}|{}|{}",
                    (cycle + 1) * 1_000_000,
                    dir.path().display()
                ),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("@@") {
                    let _ = tx.send(line[at + 2..].to_string());
                }
            }
        });
        let opened = rx.recv_timeout(CHILD_OPEN_TIMEOUT);
        match &opened {
            Ok(line) if line.starts_with('O') => {}
            other => {
                let _ = child.kill();
                panic!("seed {seed} cycle {cycle}: the child did not open its log: {other:?}");
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(KILL_WINDOW_MS + 1)));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        reader.join().expect("reader thread");
        let mut acks = 0;
        let lines: Vec<String> = rx.try_iter().collect();
        if rng.below(2) == 0 {
            tear_unacknowledged_tail(dir.path(), &lines, &mut rng);
        }
        for line in lines {
            match line.as_bytes().first() {
                Some(b'A') => acks += 1,
                Some(b'T') => truncates += 1,
                Some(b'P') => purges += 1,
                _ => {}
            }
            if let Err(e) = model.apply(&line) {
                panic!("seed {seed} cycle {cycle}: {e}");
            }
        }
        acked_total += acks;
        match runtime.block_on(verify(dir.path(), &mut model, cycle)) {
            Ok(cut_bytes) => torn_tails += u64::from(cut_bytes > 0),
            Err(e) => panic!("seed {seed} cycle {cycle}: {e}"),
        }
    }
    eprintln!(
        "crash test: {cycles} kills; {acked_total} acknowledged appends, {truncates} truncates, \
         {purges} purges checked; {torn_tails} recoveries cut a torn tail"
    );
    assert!(
        acked_total > cycles,
        "the children acknowledged too little to prove anything"
    );
}
