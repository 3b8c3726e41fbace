//! Data spaces as a baseline file writes them: `modbus/unit1/holding_registers`,
//! `modbus/unit1/file7`, `s7/DB5`, `s7/M`, `s7/area0x1c`, `dnp3/10/g12`.
use otsentry_core::{ModbusTable, Space};

/// S7 area codes and the letters Siemens tools use for them.
const S7_AREAS: [(u8, &str); 8] =
    [(0x03, "SYS"), (0x80, "P"), (0x81, "I"), (0x82, "Q"), (0x83, "M"), (0x84, "DB"), (0x1C, "C"), (0x1D, "T")];

const TABLES: [(ModbusTable, &str); 4] = [
    (ModbusTable::Coils, "coils"),
    (ModbusTable::DiscreteInputs, "discrete_inputs"),
    (ModbusTable::InputRegisters, "input_registers"),
    (ModbusTable::HoldingRegisters, "holding_registers"),
];

pub fn name(space: Space) -> String {
    match space {
        Space::Modbus { unit, table: ModbusTable::File(n) } => format!("modbus/unit{unit}/file{n}"),
        Space::Modbus { unit, table } => {
            let t = TABLES.iter().find(|(t, _)| *t == table).map_or("unknown", |(_, n)| n);
            format!("modbus/unit{unit}/{t}")
        }
        Space::S7 { area: 0x84, db } => format!("s7/DB{db}"),
        Space::S7 { area, .. } => match S7_AREAS.iter().find(|(a, _)| *a == area) {
            Some((_, letter)) => format!("s7/{letter}"),
            None => format!("s7/area0x{area:02x}"),
        },
        Space::Dnp3 { outstation, group } => format!("dnp3/{outstation}/g{group}"),
    }
}

/// The space `text` names, or why it names none.
pub(crate) fn parse(text: &str) -> Result<Space, String> {
    let bad = || format!("{text:?} is not a data space (modbus/unitN/holding_registers, s7/DB5, s7/M, dnp3/OUTSTATION/gGROUP)");
    // Without collecting: a baseline has a space per range and written address.
    let mut it = text.splitn(4, '/');
    let parts = (it.next(), it.next(), it.next(), it.next());
    match parts {
        (Some("modbus"), Some(unit), Some(table), None) => {
            let unit = unit.strip_prefix("unit").and_then(|u| u.parse().ok()).ok_or_else(bad)?;
            let table = match table.strip_prefix("file") {
                Some(n) => ModbusTable::File(n.parse().map_err(|_| bad())?),
                None => TABLES.iter().find(|(_, n)| *n == table).map(|(t, _)| *t).ok_or_else(bad)?,
            };
            Ok(Space::Modbus { unit, table })
        }
        (Some("s7"), Some(area), None, None) => {
            if let Some(db) = area.strip_prefix("DB").filter(|d| !d.is_empty()) {
                return Ok(Space::S7 { area: 0x84, db: db.parse().map_err(|_| bad())? });
            }
            if let Some(code) = area.strip_prefix("area0x") {
                return Ok(Space::S7 { area: u8::from_str_radix(code, 16).map_err(|_| bad())?, db: 0 });
            }
            let area = S7_AREAS.iter().find(|(c, l)| *l == area && *c != 0x84).map(|(c, _)| *c).ok_or_else(bad)?;
            Ok(Space::S7 { area, db: 0 })
        }
        (Some("dnp3"), Some(outstation), Some(group), None) => {
            let outstation = outstation.parse().map_err(|_| bad())?;
            let group = group.strip_prefix('g').and_then(|g| g.parse().ok()).ok_or_else(bad)?;
            Ok(Space::Dnp3 { outstation, group })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_reads_back_as_written() {
        let spaces = [
            Space::Modbus { unit: 1, table: ModbusTable::HoldingRegisters },
            Space::Modbus { unit: 255, table: ModbusTable::Coils },
            Space::Modbus { unit: 0, table: ModbusTable::File(7) },
            Space::S7 { area: 0x84, db: 5 },
            Space::S7 { area: 0x83, db: 0 },
            Space::S7 { area: 0x42, db: 0 },
            Space::Dnp3 { outstation: 10, group: 12 },
        ];
        for s in spaces {
            assert_eq!(parse(&name(s)), Ok(s), "{}", name(s));
        }
        assert_eq!(name(spaces[3]), "s7/DB5");
        for bad in ["", "s7/DB", "s7/X", "modbus/1/coils", "modbus/unit1/bits", "dnp3/x/g1", "dnp3/1/12", "s7/area0xzz"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
