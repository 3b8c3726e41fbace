//! Lower-case hex for bytes that records carry (values, raw specifications, file data).

/// The bytes as lower-case hex, two characters each.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    let digit = |n: u8| char::from(DIGITS.get(usize::from(n)).copied().unwrap_or(b'0'));
    for &b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 0x0F));
    }
    s
}

/// Bytes written as lower-case hex where they are displayed or serialised, without a
/// `String` in between.
#[derive(Clone, Copy, Debug)]
pub struct Hex<'a>(pub &'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 64];
        for chunk in self.0.chunks(32) {
            for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
                let digit = |n: u8| DIGITS.get(usize::from(n)).copied().unwrap_or(b'0');
                pair.copy_from_slice(&[digit(b >> 4), digit(b & 0x0F)]);
            }
            let text = buf.get(..chunk.len() * 2).unwrap_or_default();
            f.write_str(std::str::from_utf8(text).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

impl serde::Serialize for Hex<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits() {
        assert_eq!(hex(&[0x00, 0x0F, 0xA5, 0xFF]), "000fa5ff");
        assert_eq!(hex(&[]), "");
        let long: Vec<u8> = (0..=255).collect();
        assert_eq!(Hex(&long).to_string(), hex(&long));
        assert_eq!(serde_json::to_string(&Hex(&[0xde, 0xad])).unwrap(), "\"dead\"");
    }
}
