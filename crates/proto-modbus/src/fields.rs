//! What rules read from a Modbus transaction or request: the schema and its accessors.
use crate::function::umas_name;
use crate::pdu::Response;
use crate::record::{Status, Transaction};
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema, Stage};

/// Repeated groups: every register or coil the request touches, and every value it writes.
const REGISTERS: u8 = 0;
const WRITES: u8 = 1;

/// A request names at most 2,000 coils; more elements are not offered to rules.
const MAX_ELEMENTS: usize = 2000;

otsentry_core::field_table!(FIELDS:
    FUNCTION => FieldDef::one("modbus.function", T::Uint).byte(),
    FUNCTION_NAME => FieldDef::one("modbus.function_name", T::Str),
    UNIT_ID => FieldDef::one("modbus.unit_id", T::Uint).byte(),
    TRANSACTION_ID => FieldDef::one("modbus.transaction_id", T::Uint).word(),
    CATEGORY => FieldDef::one("modbus.category", T::Str),
    ACCESS => FieldDef::one("modbus.access", T::Str),
    DATA_TYPE => FieldDef::one("modbus.data_type", T::Str),
    STATUS => FieldDef::one("modbus.status", T::Str),
    ADDRESS => FieldDef::one("modbus.address", T::Uint).word(),
    QUANTITY => FieldDef::one("modbus.quantity", T::Uint).word(),
    SUBFUNCTION => FieldDef::one("modbus.subfunction", T::Uint).word(),
    MEI_TYPE => FieldDef::one("modbus.mei_type", T::Uint).byte(),
    MEI_OBJECT => FieldDef::one("modbus.mei_object", T::Uint).byte(),
    UMAS_FUNCTION => FieldDef::one("modbus.umas.function", T::Uint).byte(),
    UMAS_FUNCTION_NAME => FieldDef::one("modbus.umas.function_name", T::Str),
    REGISTER => FieldDef::each("modbus.register", T::Uint, REGISTERS).word(),
    WRITE_ADDRESS => FieldDef::each("modbus.write.address", T::Uint, WRITES).word(),
    WRITE_VALUE => FieldDef::each("modbus.write.value", T::Uint, WRITES).word(),
    UNITS_ADDRESSED => FieldDef::one("modbus.units_addressed", T::Uint),
    EXCEPTION => FieldDef::one("modbus.exception", T::Uint).answered().byte(),
    RESPONSE_TIME_US => FieldDef::one("modbus.response_time_us", T::Int).answered(),
);

/// The `modbus` event's fields. `modbus.register` is each protocol (0-based) address a
/// request reads or writes; `modbus.write.*` pairs each written value with its address.
pub static MODBUS_SCHEMA: Schema =
    Schema { event_type: "modbus", fields: &FIELDS, groups: &["registers", "writes"], keys: &[FieldId(FUNCTION)] };

impl Transaction<'_> {
    fn read_span(&self) -> usize {
        usize::from(self.quantity().unwrap_or(0))
    }

    fn write_span(&self) -> (Option<u16>, usize) {
        match self.request {
            Some(r) if r.write_address.is_some() => (r.write_address, usize::from(r.write_quantity.unwrap_or(0))),
            _ => (None, 0),
        }
    }
}

impl FieldAccess for Transaction<'_> {
    fn schema(&self) -> &'static Schema {
        &MODBUS_SCHEMA
    }

    fn stage(&self) -> Stage {
        match self.status {
            Status::Request => Stage::Request,
            _ => Stage::Transaction,
        }
    }

    fn elements(&self, group: u8) -> usize {
        let n = match group {
            REGISTERS => self.read_span() + self.write_span().1,
            WRITES => self.request.map_or(0, |r| r.values.len()),
            _ => 0,
        };
        n.min(MAX_ELEMENTS)
    }

    fn value(&self, id: FieldId, elem: usize) -> Option<FieldValue<'_>> {
        let u = |v: u64| Some(FieldValue::U64(v));
        let req = self.request;
        match id.0 {
            FUNCTION => u(u64::from(self.function.0)),
            FUNCTION_NAME => Some(FieldValue::Str(self.function.name())),
            UNIT_ID => u(u64::from(self.unit_id)),
            TRANSACTION_ID => u(u64::from(self.transaction_id)),
            CATEGORY => Some(FieldValue::Str(self.function.category().as_str())),
            ACCESS => Some(FieldValue::Str(self.function.access().as_str())),
            DATA_TYPE => self.function.data_type().map(|t| FieldValue::Str(t.as_str())),
            STATUS => Some(FieldValue::Str(self.status.as_str())),
            ADDRESS => self.address().and_then(|a| u(u64::from(a))),
            QUANTITY => self.quantity().and_then(|q| u(u64::from(q))),
            SUBFUNCTION => req.and_then(|r| r.diagnostic).and_then(|d| u(u64::from(d))),
            MEI_TYPE => req.and_then(|r| r.mei_type).and_then(|t| u(u64::from(t))),
            MEI_OBJECT => req.and_then(|r| r.read_device_id).and_then(|(_, o)| u(u64::from(o))),
            UMAS_FUNCTION => self.umas().and_then(|(_, c)| u(u64::from(c))),
            UMAS_FUNCTION_NAME => self.umas().map(|(_, c)| FieldValue::Str(umas_name(c))),
            REGISTER => {
                let reads = self.read_span();
                if elem < reads {
                    u(u64::from(self.address()?) + elem as u64)
                } else {
                    let (start, n) = self.write_span();
                    (elem - reads < n).then(|| u(u64::from(start?) + (elem - reads) as u64)).flatten()
                }
            }
            WRITE_ADDRESS => {
                let r = req?;
                r.values.get(elem)?;
                u(u64::from(r.write_address.or(r.address)?) + elem as u64)
            }
            WRITE_VALUE => req?.values.get(elem).and_then(|&v| u(u64::from(v))),
            UNITS_ADDRESSED => req.and_then(|r| u(u64::from(r.units_addressed))),
            EXCEPTION => match self.response {
                Some(Response::Exception { code, .. }) => u(u64::from(*code)),
                _ => None,
            },
            RESPONSE_TIME_US => self.response_time_us.map(FieldValue::I64),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::Function;
    use crate::record::RequestInfo;

    #[test]
    fn the_field_table_is_sound() {
        assert_eq!(MODBUS_SCHEMA.lint(), Ok(()));
    }

    #[test]
    fn a_read_write_request_offers_each_register_and_each_written_value() {
        // Function 23: read 2 registers at 10, write 3 at 100.
        let req = RequestInfo {
            function: 23,
            address: Some(10),
            quantity: Some(2),
            write_address: Some(100),
            write_quantity: Some(3),
            values: vec![7, 8, 9],
            ..Default::default()
        };
        let t = Transaction {
            tx_id: 0,
            transaction_id: 1,
            unit_id: 1,
            function: Function(23),
            request: Some(&req),
            response: None,
            response_time_us: None,
            status: Status::Request,
        };
        assert_eq!(t.stage(), Stage::Request);
        assert_eq!(t.key(), Some((0, 23)));
        assert_eq!(t.elements(REGISTERS), 5);
        let regs: Vec<_> = (0..5).map(|i| t.value(FieldId(REGISTER), i)).collect();
        let u = |v| Some(FieldValue::U64(v));
        assert_eq!(regs, vec![u(10), u(11), u(100), u(101), u(102)]);
        assert_eq!(t.value(FieldId(REGISTER), 5), None);
        assert_eq!(t.elements(WRITES), 3);
        assert_eq!((t.value(FieldId(WRITE_ADDRESS), 2), t.value(FieldId(WRITE_VALUE), 2)), (u(102), u(9)));
        assert_eq!(t.value(FieldId(EXCEPTION), 0), None, "no answer yet");
    }
}
