//! MAC vendors from Wireshark's `manuf` file (Debian's wireshark-common installs it at
//! [`MANUF`]): lines of `OUI<TAB>short name<TAB>long name`, with longer prefixes
//! written `00:1B:C5:00:00:00/36`.
use std::collections::HashMap;
use std::path::Path;

pub const MANUF: &str = "/usr/share/wireshark/manuf";

/// Vendors by prefix, for the MACs wanted only.
#[derive(Debug, Default)]
pub struct Vendors {
    /// (prefix bits, the MAC's first `bits` bits) to the vendor's long name.
    names: HashMap<(u8, u64), String>,
}

impl Vendors {
    /// Reads `path`, keeping the prefixes of `macs`. A missing file gives no vendors.
    pub fn load(path: &Path, macs: &[[u8; 6]]) -> std::io::Result<Vendors> {
        let wanted: Vec<u64> = macs.iter().map(|m| word(*m)).collect();
        let text = std::fs::read_to_string(path)?;
        Ok(Vendors::parse(&text, |bits, key| wanted.iter().any(|w| w >> (48 - u32::from(bits)) == key)))
    }

    /// Reads `path` whole: for a sensor, which meets MACs as it goes.
    pub fn load_all(path: &Path) -> std::io::Result<Vendors> {
        Ok(Vendors::parse(&std::fs::read_to_string(path)?, |_, _| true))
    }

    /// The prefixes of a manuf file's `text` that `keep` keeps (by prefix bits and value).
    pub fn parse(text: &str, keep: impl Fn(u8, u64) -> bool) -> Vendors {
        let mut names = HashMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            let (Some(prefix), Some(short)) = (cols.next(), cols.next()) else { continue };
            let long = cols.next().unwrap_or(short).trim();
            let (hex, bits) = match prefix.split_once('/') {
                Some((hex, bits)) => (hex, bits.parse::<u8>().unwrap_or(48)),
                None => (prefix, 24),
            };
            let bytes: Vec<u8> = hex.split([':', '-']).filter_map(|b| u8::from_str_radix(b, 16).ok()).collect();
            if bytes.is_empty() || bits == 0 || bits > 48 {
                continue;
            }
            let value = bytes.iter().chain(std::iter::repeat(&0)).take(6).fold(0u64, |acc, &b| acc << 8 | u64::from(b));
            let key = value >> (48 - u32::from(bits));
            if keep(bits, key) {
                names.insert((bits, key), long.to_string());
            }
        }
        Vendors { names }
    }

    /// How many prefixes it knows.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The vendor of `mac`, by its longest known prefix.
    pub fn of(&self, mac: [u8; 6]) -> Option<&str> {
        let w = word(mac);
        [36u8, 28, 24].iter().find_map(|&bits| self.names.get(&(bits, w >> (48 - u32::from(bits))))).map(String::as_str)
    }
}

fn word(mac: [u8; 6]) -> u64 {
    mac.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_names_the_vendor() {
        let dir = std::env::temp_dir().join(format!("otsentry-manuf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("manuf");
        std::fs::write(&path, "# comment\n00:1B:1B\tSiemens\tSiemens AG\n00:1B:C5\tIeee\tIEEE Registration Authority\n00:1B:C5:00:00:00/36\tConvergi\tConverging Systems Inc.\n08:00:06\tSiemens\n").unwrap();
        let macs = [[0x00, 0x1B, 0x1B, 1, 2, 3], [0x00, 0x1B, 0xC5, 0x00, 0x00, 0x42], [0x00, 0x1B, 0xC5, 0x77, 0, 1], [8, 0, 6, 0, 0, 1]];
        let v = Vendors::load(&path, &macs).unwrap();
        assert_eq!(v.of(macs[0]), Some("Siemens AG"));
        assert_eq!(v.of(macs[1]), Some("Converging Systems Inc."));
        assert_eq!(v.of(macs[2]), Some("IEEE Registration Authority"));
        assert_eq!(v.of(macs[3]), Some("Siemens"), "a line without a long name");
        assert_eq!(v.of([2, 0, 0, 0, 0, 1]), None);
        let all = Vendors::load_all(&path).unwrap();
        assert_eq!((all.len(), v.len()), (4, 4));
        let some = Vendors::load(&path, &macs[..1]).unwrap();
        assert_eq!((some.len(), some.of(macs[3])), (1, None), "only the prefixes asked for");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
