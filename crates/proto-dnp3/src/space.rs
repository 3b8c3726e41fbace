//! DNP3 data spaces as a baseline keeps them: an object group of one outstation
//! (`dnp3/10/g12`).
use otsentry_core::{Space, SpaceNames};

/// Object `group` of the outstation at link address `outstation`.
pub fn space(outstation: u16, group: u8) -> Space {
    Space { proto: crate::DNP3, parts: [u32::from(outstation), u32::from(group), 0] }
}

fn name([outstation, group, _]: [u32; 3]) -> String {
    format!("{outstation}/g{group}")
}

fn parse(rest: &str) -> Option<[u32; 3]> {
    let (outstation, group) = rest.split_once('/')?;
    let outstation: u16 = outstation.parse().ok()?;
    let group: u8 = group.strip_prefix('g')?.parse().ok()?;
    Some([u32::from(outstation), u32::from(group), 0])
}

/// How a baseline names DNP3 spaces.
pub static SPACES: SpaceNames = SpaceNames { prefix: "dnp3", name, parse, example: "dnp3/OUTSTATION/gGROUP" };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_reads_back_as_written() {
        for s in [space(10, 12), space(0, 0), space(65535, 255)] {
            assert_eq!(Space::parse(&s.name(), &[crate::DNP3]), Ok(s), "{}", s.name());
        }
        assert_eq!(space(10, 12).name(), "dnp3/10/g12");
        for bad in ["dnp3/x/g1", "dnp3/1/12", "dnp3/1", "dnp3/65536/g1", "dnp3/1/g256"] {
            assert!(Space::parse(bad, &[crate::DNP3]).is_err(), "{bad}");
        }
    }
}
