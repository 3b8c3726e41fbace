//! What rules read from a DNP3 fragment: the schema and its accessors.
use crate::app::{function_name, IIN_NAMES};
use crate::dissector::FragmentEvent;
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema, Stage};

// Field ids: positions in `FIELDS` (checked by a test).
const FUNCTION: u16 = 0;
const FUNCTION_NAME: u16 = 1;
const SRC: u16 = 2;
const DST: u16 = 3;
const FROM_MASTER: u16 = 4;
const TYPE: u16 = 5;
const LINK_FUNCTION: u16 = 6;
const IIN: u16 = 7;
const UNSOLICITED: u16 = 8;
const OBJECT_GROUP: u16 = 9;
const OBJECT_VARIATION: u16 = 10;
const OBJECT_QUALIFIER: u16 = 11;
const OBJECT_COUNT: u16 = 12;
const OBJECT_START: u16 = 13;
const OBJECT_STOP: u16 = 14;
const CROB_INDEX: u16 = 15;
const CROB_CONTROL_CODE: u16 = 16;
const CROB_OPERATION: u16 = 17;
const AO_INDEX: u16 = 18;
const AO_VALUE: u16 = 19;
const INDICATOR: u16 = 20;
const POINT_INDEX: u16 = 21;

const OBJECTS: u8 = 0;
const CROBS: u8 = 1;
const ANALOG_OUTPUTS: u8 = 2;
const INDICATORS: u8 = 3;
/// Indices a fragment's commands name: its CROBs, then its analog outputs.
const POINTS: u8 = 4;

static FIELDS: [FieldDef; 22] = [
    FieldDef::one("dnp3.function", T::Uint),
    FieldDef::one("dnp3.function_name", T::Str),
    FieldDef::one("dnp3.src", T::Uint),
    FieldDef::one("dnp3.dst", T::Uint),
    FieldDef::one("dnp3.from_master", T::Bool),
    FieldDef::one("dnp3.type", T::Str),
    FieldDef::one("dnp3.link_function", T::Uint),
    FieldDef::one("dnp3.iin", T::Uint),
    FieldDef::one("dnp3.unsolicited", T::Bool),
    FieldDef::each("dnp3.object.group", T::Uint, OBJECTS),
    FieldDef::each("dnp3.object.variation", T::Uint, OBJECTS),
    FieldDef::each("dnp3.object.qualifier", T::Uint, OBJECTS),
    FieldDef::each("dnp3.object.count", T::Uint, OBJECTS),
    FieldDef::each("dnp3.object.start", T::Uint, OBJECTS),
    FieldDef::each("dnp3.object.stop", T::Uint, OBJECTS),
    FieldDef::each("dnp3.crob.index", T::Uint, CROBS),
    FieldDef::each("dnp3.crob.control_code", T::Uint, CROBS),
    FieldDef::each("dnp3.crob.operation", T::Str, CROBS),
    FieldDef::each("dnp3.analog_output.index", T::Uint, ANALOG_OUTPUTS),
    FieldDef::each("dnp3.analog_output.value", T::Float, ANALOG_OUTPUTS),
    FieldDef::each("dnp3.iin.indicator", T::Str, INDICATORS),
    FieldDef::each("dnp3.point.index", T::Uint, POINTS),
];

/// The `dnp3` event's fields: one fragment, a request or a response. `dnp3.iin.indicator`
/// is each set IIN bit by name (`device_restart`, `config_corrupt`, ...).
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

    fn stage(&self) -> Stage {
        Stage::Message
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
            IIN => f.iin.and_then(|i| u(u64::from(i))),
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
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_names_its_field() {
        let ids = [
            (FUNCTION, "dnp3.function"),
            (FUNCTION_NAME, "dnp3.function_name"),
            (SRC, "dnp3.src"),
            (DST, "dnp3.dst"),
            (FROM_MASTER, "dnp3.from_master"),
            (TYPE, "dnp3.type"),
            (LINK_FUNCTION, "dnp3.link_function"),
            (IIN, "dnp3.iin"),
            (UNSOLICITED, "dnp3.unsolicited"),
            (OBJECT_GROUP, "dnp3.object.group"),
            (OBJECT_VARIATION, "dnp3.object.variation"),
            (OBJECT_QUALIFIER, "dnp3.object.qualifier"),
            (OBJECT_COUNT, "dnp3.object.count"),
            (OBJECT_START, "dnp3.object.start"),
            (OBJECT_STOP, "dnp3.object.stop"),
            (CROB_INDEX, "dnp3.crob.index"),
            (CROB_CONTROL_CODE, "dnp3.crob.control_code"),
            (CROB_OPERATION, "dnp3.crob.operation"),
            (AO_INDEX, "dnp3.analog_output.index"),
            (AO_VALUE, "dnp3.analog_output.value"),
            (INDICATOR, "dnp3.iin.indicator"),
            (POINT_INDEX, "dnp3.point.index"),
        ];
        assert_eq!(ids.len(), FIELDS.len());
        for (id, name) in ids {
            assert_eq!(DNP3_SCHEMA.find(name), Some(FieldId(id)), "{name}");
        }
    }
}
