//! Modbus data spaces as a baseline keeps them: a table of one unit
//! (`modbus/unit1/holding_registers`), or a file of one unit (`modbus/unit1/file7`).
use otsentry_core::{Space, SpaceNames};

/// The four Modbus data tables, and function 20/21 file records by file number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModbusTable {
    Coils,
    DiscreteInputs,
    InputRegisters,
    HoldingRegisters,
    File(u16),
}

/// Table names by the number a space keeps (in this order, so spaces sort as before).
const TABLES: [&str; 4] = ["coils", "discrete_inputs", "input_registers", "holding_registers"];
const FILE: u32 = 4;

/// The space of `table` on `unit`: its numbers are the unit, the table, the file.
pub fn space(unit: u8, table: ModbusTable) -> Space {
    let (t, file) = match table {
        ModbusTable::Coils => (0, 0),
        ModbusTable::DiscreteInputs => (1, 0),
        ModbusTable::InputRegisters => (2, 0),
        ModbusTable::HoldingRegisters => (3, 0),
        ModbusTable::File(n) => (FILE, u32::from(n)),
    };
    Space { proto: crate::MODBUS, parts: [u32::from(unit), t, file] }
}

fn name([unit, table, file]: [u32; 3]) -> String {
    match TABLES.get(table as usize) {
        Some(t) => format!("unit{unit}/{t}"),
        None if table == FILE => format!("unit{unit}/file{file}"),
        None => format!("unit{unit}/table{table}"),
    }
}

fn parse(rest: &str) -> Option<[u32; 3]> {
    let (unit, table) = rest.split_once('/')?;
    let unit: u8 = unit.strip_prefix("unit")?.parse().ok()?;
    let (t, file) = match table.strip_prefix("file") {
        Some(n) => (FILE, u32::from(n.parse::<u16>().ok()?)),
        None => (TABLES.iter().position(|n| *n == table)? as u32, 0),
    };
    Some([u32::from(unit), t, file])
}

/// How a baseline names Modbus spaces.
pub static SPACES: SpaceNames = SpaceNames { prefix: "modbus", name, parse, example: "modbus/unitN/holding_registers" };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_space_reads_back_as_written() {
        let spaces = [
            space(1, ModbusTable::HoldingRegisters),
            space(255, ModbusTable::Coils),
            space(0, ModbusTable::File(7)),
            space(3, ModbusTable::DiscreteInputs),
            space(3, ModbusTable::InputRegisters),
        ];
        for s in spaces {
            assert_eq!(Space::parse(&s.name(), &[crate::MODBUS]), Ok(s), "{}", s.name());
        }
        assert_eq!(spaces[0].name(), "modbus/unit1/holding_registers");
        assert_eq!(spaces[2].name(), "modbus/unit0/file7");
        for bad in ["modbus/1/coils", "modbus/unit1/bits", "modbus/unit256/coils", "modbus/unit1/filex", "modbus/unit1"] {
            assert!(Space::parse(bad, &[crate::MODBUS]).is_err(), "{bad}");
        }
        assert!(space(1, ModbusTable::Coils) < space(1, ModbusTable::HoldingRegisters));
        assert!(space(1, ModbusTable::HoldingRegisters) < space(1, ModbusTable::File(0)));
    }
}
