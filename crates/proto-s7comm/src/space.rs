//! S7 data spaces as a baseline keeps them: a data block by number (`s7/DB5`), or
//! another memory area by the letter Siemens tools use (`s7/M`), else by code
//! (`s7/area0x1c`).
use otsentry_core::{Space, SpaceNames};

/// S7 area codes and their letters.
const AREAS: [(u8, &str); 8] = [(0x03, "SYS"), (0x80, "P"), (0x81, "I"), (0x82, "Q"), (0x83, "M"), (0x84, "DB"), (0x1C, "C"), (0x1D, "T")];
const DATA_BLOCKS: u32 = 0x84;

/// Area `area` (0x84 data blocks, 0x83 flags, 0x82 outputs ...), data block `db` (0
/// outside data blocks).
pub fn space(area: u8, db: u16) -> Space {
    Space { proto: crate::S7COMM, parts: [u32::from(area), u32::from(db), 0] }
}

fn name([area, db, _]: [u32; 3]) -> String {
    if area == DATA_BLOCKS {
        return format!("DB{db}");
    }
    match AREAS.iter().find(|(a, _)| u32::from(*a) == area) {
        Some((_, letter)) => (*letter).to_string(),
        None => format!("area0x{area:02x}"),
    }
}

fn parse(rest: &str) -> Option<[u32; 3]> {
    if let Some(db) = rest.strip_prefix("DB").filter(|d| !d.is_empty()) {
        return Some([DATA_BLOCKS, u32::from(db.parse::<u16>().ok()?), 0]);
    }
    if let Some(code) = rest.strip_prefix("area0x") {
        return Some([u32::from(u8::from_str_radix(code, 16).ok()?), 0, 0]);
    }
    let area = AREAS.iter().find(|(c, l)| *l == rest && u32::from(*c) != DATA_BLOCKS)?.0;
    Some([u32::from(area), 0, 0])
}

/// How a baseline names S7 spaces.
pub static SPACES: SpaceNames = SpaceNames { prefix: "s7", name, parse, example: "s7/DB5, s7/M" };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_reads_back_as_written() {
        for s in [space(0x84, 5), space(0x83, 0), space(0x42, 0), space(0x1C, 0)] {
            assert_eq!(Space::parse(&s.name(), &[crate::S7COMM]), Ok(s), "{}", s.name());
        }
        assert_eq!(space(0x84, 5).name(), "s7/DB5");
        assert_eq!(space(0x83, 0).name(), "s7/M");
        assert_eq!(space(0x42, 0).name(), "s7/area0x42");
        for bad in ["s7/DB", "s7/X", "s7/area0xzz", "s7/DB70000", "s7"] {
            assert!(Space::parse(bad, &[crate::S7COMM]).is_err(), "{bad}");
        }
    }
}
