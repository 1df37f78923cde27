//! The host's statically linked busybox, which the test image is made of (`FROM scratch`: an
//! image without a C library, so only a static binary runs in it).

use std::path::Path;

/// Where the Debian package `busybox-static` installs it.
pub const BUSYBOX_PATH: &str = "/bin/busybox";

/// ELF program header type of the dynamic loader's path: present in dynamically linked
/// executables only.
const PT_INTERP: u32 = 3;

/// The bytes of the static busybox, or why there is none.
pub fn read_static_busybox() -> Result<Vec<u8>, String> {
    let path = Path::new(BUSYBOX_PATH);
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "no static busybox at {BUSYBOX_PATH} ({e}); install the Debian package \
             busybox-static (or run .ci/docker-up)"
        )
    })?;
    match is_static_elf(&bytes) {
        Some(true) => Ok(bytes),
        Some(false) => Err(format!(
            "{BUSYBOX_PATH} is dynamically linked (the package busybox, not busybox-static?); \
             it cannot run in an image FROM scratch: install busybox-static"
        )),
        None => Err(format!("{BUSYBOX_PATH} is not an ELF executable")),
    }
}

/// `Some(true)` for an ELF file without a dynamic loader (`PT_INTERP`), `Some(false)` with one,
/// `None` when `bytes` is not a well-formed ELF file.
fn is_static_elf(bytes: &[u8]) -> Option<bool> {
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match bytes.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = match bytes.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let read = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at.checked_add(len)?)?;
        let mut value = 0u64;
        for i in 0..len {
            let b = if little { field[len - 1 - i] } else { field[i] };
            value = (value << 8) | u64::from(b);
        }
        Some(value)
    };
    let (phoff, phentsize, phnum) = if wide {
        (read(0x20, 8)?, read(0x36, 2)?, read(0x38, 2)?)
    } else {
        (read(0x1C, 4)?, read(0x2A, 2)?, read(0x2C, 2)?)
    };
    let phoff = usize::try_from(phoff).ok()?;
    let phentsize = usize::try_from(phentsize).ok()?;
    for i in 0..usize::try_from(phnum).ok()? {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if read(at, 4)? == u64::from(PT_INTERP) {
            return Some(false);
        }
    }
    Some(true)
}
