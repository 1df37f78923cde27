//! Text encodings of keys and tokens: unpadded standard base64 (unlock keys, as SwarmKit) and
//! fixed-width base36 (join tokens, as SwarmKit). Small, exact and allocation-bounded.

use zeroize::Zeroizing;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Standard base64 without padding.
pub(crate) fn base64_encode(data: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(data.len().div_ceil(3) * 4));
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(B64[idx as usize]));
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard base64 without padding; `None` on any invalid character or length.
pub(crate) fn base64_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() * 3 / 4));
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= b64_value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        // Canonical form: the unused low bits of the last character must be zero.
        let low_mask = (1u32 << (24 - 8 * produced as u32)) - 1;
        if n & low_mask != 0 {
            return None;
        }
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Big-endian bytes as base36, left-padded with '0' to `width` characters.
pub(crate) fn base36_encode(data: &[u8], width: usize) -> Zeroizing<String> {
    let mut num = Zeroizing::new(data.to_vec());
    let mut digits = Zeroizing::new(Vec::with_capacity(width));
    while num.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for byte in num.iter_mut() {
            let cur = (rem << 8) | u32::from(*byte);
            *byte = (cur / 36) as u8;
            rem = cur % 36;
        }
        digits.push(B36[rem as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    let mut out = Zeroizing::new(String::with_capacity(digits.len()));
    for &d in digits.iter().rev() {
        out.push(char::from(d));
    }
    out
}

/// Parses lowercase base36 into exactly `N` big-endian bytes; `None` on a bad digit or overflow.
pub(crate) fn base36_decode<const N: usize>(text: &str) -> Option<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    for c in text.bytes() {
        let digit = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => return None,
        };
        let mut carry = digit;
        for byte in out.iter_mut().rev() {
            let cur = u32::from(*byte) * 36 + carry;
            *byte = (cur & 0xff) as u8;
            carry = cur >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_known_vectors() {
        assert_eq!(base64_encode(b"").as_str(), "");
        assert_eq!(base64_encode(b"f").as_str(), "Zg");
        assert_eq!(base64_encode(b"fo").as_str(), "Zm8");
        assert_eq!(base64_encode(b"foo").as_str(), "Zm9v");
        assert_eq!(base64_encode(b"foobar").as_str(), "Zm9vYmFy");
        assert_eq!(base64_decode("Zm9vYg").unwrap().as_slice(), b"foob");
        assert!(
            base64_decode("Zm9vYh").is_none(),
            "non-canonical trailing bits"
        );
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zm9v=").is_none());
    }

    #[test]
    fn base36_known_vectors() {
        assert_eq!(base36_encode(&[0, 35], 3).as_str(), "00z");
        assert_eq!(base36_encode(&[1, 0], 0).as_str(), "74");
        assert_eq!(*base36_decode::<2>("74").unwrap(), [1, 0]);
        assert!(base36_decode::<1>("74").is_none(), "overflow");
        assert!(base36_decode::<2>("7A").is_none(), "uppercase");
        assert_eq!(base36_encode(&[0xff; 32], 50).len(), 50);
        assert_eq!(base36_encode(&[0xff; 16], 25).len(), 25);
    }

    proptest! {
        #[test]
        fn base64_round_trips(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = base64_encode(&data);
            let back = base64_decode(&text).unwrap();
            prop_assert_eq!(back.as_slice(), data.as_slice());
        }

        #[test]
        fn base36_round_trips(data in any::<[u8; 16]>()) {
            let text = base36_encode(&data, 25);
            prop_assert_eq!(text.len(), 25);
            prop_assert_eq!(*base36_decode::<16>(&text).unwrap(), data);
        }
    }
}
