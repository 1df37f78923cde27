//! Facts about the host a runtime runs on, for [`Runtime::describe`](crate::runtime::Runtime::describe).

use crate::model::{NANO_CPUS_PER_CPU, Platform};

/// The platform this program runs on, with Go's architecture names as SwarmKit reports them
/// (`amd64`, `arm64`, `arm`, `386`…; other architectures keep Rust's name).
///
/// ```
/// let p = swarm_core::runtime::host::current_platform();
/// assert_eq!(p.os, std::env::consts::OS);
/// assert!(!p.architecture.is_empty());
/// ```
pub fn current_platform() -> Platform {
    Platform::new(std::env::consts::OS, go_arch(std::env::consts::ARCH))
}

/// Rust's `std::env::consts::ARCH` in Go's spelling.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// CPUs available to this process, in nano-CPUs (1e9 per core).
pub fn available_nano_cpus() -> i64 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    i64::try_from(cpus)
        .unwrap_or(i64::MAX / NANO_CPUS_PER_CPU)
        .saturating_mul(NANO_CPUS_PER_CPU)
}

/// Total physical memory in bytes, or `None` where it cannot be read.
pub fn total_memory_bytes() -> Option<i64> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let info = nix::sys::sysinfo::sysinfo().ok()?;
        i64::try_from(info.ram_total()).ok()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

/// The host's name, or `None` if it cannot be read.
pub fn hostname() -> Option<String> {
    #[cfg(unix)]
    {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok()
    }
}
