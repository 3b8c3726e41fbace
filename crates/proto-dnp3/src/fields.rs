//! What rules read from a DNP3 fragment: the schema and its accessors.
use crate::app::{function_name, IIN_NAMES};
use crate::dissector::FragmentEvent;
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema};

const OBJECTS: u8 = 0;
const CROBS: u8 = 1;
const ANALOG_OUTPUTS: u8 = 2;
const INDICATORS: u8 = 3;
/// Indices a fragment's commands name: its CROBs, then its analog outputs.
const POINTS: u8 = 4;

otsentry_core::field_table!(FIELDS:
    FUNCTION => FieldDef::one("dnp3.function", T::Uint).byte(),
    FUNCTION_NAME => FieldDef::one("dnp3.function_name", T::Str),
    SRC => FieldDef::one("dnp3.src", T::Uint).word(),
    DST => FieldDef::one("dnp3.dst", T::Uint).word(),
    FROM_MASTER => FieldDef::one("dnp3.from_master", T::Bool),
    TYPE => FieldDef::one("dnp3.type", T::Str),
    LINK_FUNCTION => FieldDef::one("dnp3.link_function", T::Uint).at_most(15),
    IIN => FieldDef::one("dnp3.iin", T::Uint).word(),
    UNSOLICITED => FieldDef::one("dnp3.unsolicited", T::Bool),
    OBJECT_GROUP => FieldDef::each("dnp3.object.group", T::Uint, OBJECTS).byte(),
    OBJECT_VARIATION => FieldDef::each("dnp3.object.variation", T::Uint, OBJECTS).byte(),
    OBJECT_QUALIFIER => FieldDef::each("dnp3.object.qualifier", T::Uint, OBJECTS).byte(),
    OBJECT_COUNT => FieldDef::each("dnp3.object.count", T::Uint, OBJECTS),
    OBJECT_START => FieldDef::each("dnp3.object.start", T::Uint, OBJECTS),
    OBJECT_STOP => FieldDef::each("dnp3.object.stop", T::Uint, OBJECTS),
    CROB_INDEX => FieldDef::each("dnp3.crob.index", T::Uint, CROBS),
    CROB_CONTROL_CODE => FieldDef::each("dnp3.crob.control_code", T::Uint, CROBS).byte(),
    CROB_OPERATION => FieldDef::each("dnp3.crob.operation", T::Str, CROBS),
    AO_INDEX => FieldDef::each("dnp3.analog_output.index", T::Uint, ANALOG_OUTPUTS),
    AO_VALUE => FieldDef::each("dnp3.analog_output.value", T::Float, ANALOG_OUTPUTS),
    INDICATOR => FieldDef::each("dnp3.iin.indicator", T::Str, INDICATORS),
    POINT_INDEX => FieldDef::each("dnp3.point.index", T::Uint, POINTS),
    CONTROL_STATUS => FieldDef::each("dnp3.control.status", T::Uint, POINTS).at_most(127),
    DATA => FieldDef::one("dnp3.data", T::Bytes),
    MASTER_SEEN => FieldDef::one("dnp3.master_seen", T::Bool),
);

/// The `dnp3` event's fields: one fragment, a request or a response. `dnp3.iin.indicator`
/// is each set IIN bit by name (`device_restart`, `config_corrupt`, ...); `dnp3.iin` is
/// the two IIN octets as Suricata and Wireshark number them (IIN1 the high byte:
/// `device_restart` is 0x8000); `dnp3.data` is the application fragment without link
/// and transport framing or CRCs (Suricata's `dnp3_data` buffer).
pub static DNP3_SCHEMA: Schema = Schema {
    event_type: "dnp3",
    fields: &FIELDS,
    groups: &["objects", "crobs", "analog_outputs", "indicators", "points"],
    keys: &[FieldId(FUNCTION)],
};

impl FragmentEvent<'_> {
    /// The `n`th set IIN bit's name.
    fn indicator(&self, n: usize) -> Option<&'static str> {
        let mut bits = self.fragment.iin?;
        for _ in 0..n {
            bits &= bits.wrapping_sub(1); // clear the lowest set bit
        }
        (bits != 0).then(|| IIN_NAMES.get(bits.trailing_zeros() as usize).copied()).flatten()
    }
}

impl FieldAccess for FragmentEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &DNP3_SCHEMA
    }
    fn elements(&self, group: u8) -> usize {
        let f = self.fragment;
        match group {
            OBJECTS => f.objects.len(),
            CROBS => f.crobs.len(),
            ANALOG_OUTPUTS => f.analog_outputs.len(),
            INDICATORS => f.iin.map_or(0, |i| i.count_ones() as usize),
            POINTS => f.crobs.len() + f.analog_outputs.len(),
            _ => 0,
        }
    }

    fn value(&self, id: FieldId, elem: usize) -> Option<FieldValue<'_>> {
        let f = self.fragment;
        let u = |v: u64| Some(FieldValue::U64(v));
        let object = || f.objects.get(elem);
        match id.0 {
            FUNCTION => u(u64::from(f.function)),
            FUNCTION_NAME => Some(FieldValue::Str(function_name(f.function))),
            SRC => u(u64::from(self.source)),
            DST => u(u64::from(self.destination)),
            FROM_MASTER => Some(FieldValue::Bool(self.from_master)),
            TYPE => Some(FieldValue::Str(self.kind())),
            LINK_FUNCTION => u(u64::from(self.link_control & 0x0F)),
            // Parsed little-endian (IIN1 low); numbered with IIN1 high.
            IIN => f.iin.and_then(|i| u(u64::from(i.swap_bytes()))),
            UNSOLICITED => Some(FieldValue::Bool(f.control & 0x10 != 0)),
            OBJECT_GROUP => object().and_then(|o| u(u64::from(o.group))),
            OBJECT_VARIATION => object().and_then(|o| u(u64::from(o.variation))),
            OBJECT_QUALIFIER => object().and_then(|o| u(u64::from(o.qualifier))),
            OBJECT_COUNT => object().and_then(|o| u(u64::from(o.count))),
            OBJECT_START => object().and_then(|o| o.range).and_then(|(start, _)| u(u64::from(start))),
            OBJECT_STOP => object().and_then(|o| o.range).and_then(|(_, stop)| u(u64::from(stop))),
            CROB_INDEX => f.crobs.get(elem).and_then(|c| u(u64::from(c.index))),
            CROB_CONTROL_CODE => f.crobs.get(elem).and_then(|c| u(u64::from(c.control_code))),
            CROB_OPERATION => f.crobs.get(elem).map(|c| FieldValue::Str((*c).operation())),
            AO_INDEX => f.analog_outputs.get(elem).and_then(|a| u(u64::from(a.index))),
            AO_VALUE => f.analog_outputs.get(elem).map(|a| FieldValue::F64(a.value)),
            INDICATOR => self.indicator(elem).map(FieldValue::Str),
            POINT_INDEX => match f.crobs.get(elem) {
                Some(c) => u(u64::from(c.index)),
                None => f.analog_outputs.get(elem - f.crobs.len()).and_then(|a| u(u64::from(a.index))),
            },
            CONTROL_STATUS => match f.crobs.get(elem) {
                Some(c) => u(u64::from(c.status & 0x7F)),
                None => f.analog_outputs.get(elem - f.crobs.len()).and_then(|a| u(u64::from(a.status & 0x7F))),
            },
            DATA => Some(FieldValue::Bytes(self.bytes)),
            MASTER_SEEN => Some(FieldValue::Bool(self.master_seen)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_table_is_sound() {
        assert_eq!(DNP3_SCHEMA.lint(), Ok(()));
    }
}
