//! A minimal writer of ustar archives: regular files only, enough for a build context.

/// Bytes of one tar block (header or data padding unit).
const BLOCK_BYTES: usize = 512;

/// Longest file name a ustar header holds without its prefix field.
const MAX_NAME_BYTES: usize = 100;

/// Largest file the 11 octal digits of a ustar size field hold.
const MAX_FILE_BYTES: u64 = 0o777_7777_7777;

/// An uncompressed tar archive being written in memory.
#[derive(Default)]
pub struct TarWriter {
    bytes: Vec<u8>,
}

impl TarWriter {
    /// Appends a regular file `name` (at most 100 bytes, no directory needed) with `mode`.
    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> Result<(), String> {
        if name.is_empty() || name.len() > MAX_NAME_BYTES {
            return Err(format!("tar entry name {name:?} is empty or too long"));
        }
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(format!(
                "tar entry {name} is larger than {MAX_FILE_BYTES} bytes"
            ));
        }
        let mut header = [0u8; BLOCK_BYTES];
        header[..name.len()].copy_from_slice(name.as_bytes());
        octal(&mut header[100..108], u64::from(mode)); // mode
        octal(&mut header[108..116], 0); // uid
        octal(&mut header[116..124], 0); // gid
        octal(&mut header[124..136], data.len() as u64); // size
        octal(&mut header[136..148], 0); // mtime
        header[156] = b'0'; // regular file
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        // The checksum is computed with its own field set to spaces, then written as six octal
        // digits, a NUL and a space.
        header[148..156].fill(b' ');
        let sum: u64 = header.iter().map(|&b| u64::from(b)).sum();
        let digits = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(digits.as_bytes());

        self.bytes.extend_from_slice(&header);
        self.bytes.extend_from_slice(data);
        let padding = (BLOCK_BYTES - data.len() % BLOCK_BYTES) % BLOCK_BYTES;
        self.bytes.extend(std::iter::repeat_n(0u8, padding));
        Ok(())
    }

    /// The archive, closed by its two zero blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend(std::iter::repeat_n(0u8, 2 * BLOCK_BYTES));
        self.bytes
    }
}

/// Writes `value` as zero-padded octal digits followed by a NUL, filling `field`.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let digits = format!("{value:0width$o}");
    field[..width].copy_from_slice(&digits.as_bytes()[digits.len() - width..]);
    field[width] = 0;
}
