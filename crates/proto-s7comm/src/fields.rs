//! What rules read from S7comm jobs and user data, S7comm-plus PDUs and COTP TPDUs: the
//! schemas and their accessors. Jobs and user data share the `s7comm` schema; a field
//! that does not apply to one of them has no value there.
use crate::cotp::rack_slot;
use crate::names::{area_name, function_name};
use crate::record::{CotpEvent, JobEvent, PlusEvent, Status, UserDataEvent};
use crate::s7::Item;
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema, Stage};

// `s7comm` field ids: positions in `S7_FIELDS` (checked by a test).
const FUNCTION: u16 = 0;
const FUNCTION_NAME: u16 = 1;
const ROSCTR: u16 = 2;
const PDU_REF: u16 = 3;
const STATUS: u16 = 4;
const BLOCK_TYPE: u16 = 5;
const BLOCK_NUMBER: u16 = 6;
const BLOCK_NAME: u16 = 7;
const PI_SERVICE: u16 = 8;
const ITEM_COUNT: u16 = 9;
const ITEM_AREA: u16 = 10;
const ITEM_AREA_CODE: u16 = 11;
const ITEM_DB: u16 = 12;
const ITEM_ADDRESS: u16 = 13;
const ITEM_LENGTH: u16 = 14;
const ERROR_CLASS: u16 = 15;
const ERROR_CODE: u16 = 16;
const UD_TYPE: u16 = 17;
const UD_GROUP: u16 = 18;
const UD_GROUP_NAME: u16 = 19;
const UD_SUB: u16 = 20;
const UD_SUB_NAME: u16 = 21;
const UD_ERROR_CODE: u16 = 22;
const UD_PASSWORD: u16 = 23;
const SZL_ID: u16 = 24;
const SZL_INDEX: u16 = 25;

const ITEMS: u8 = 0;

static S7_FIELDS: [FieldDef; 26] = [
    FieldDef::one("s7comm.function", T::Uint),
    FieldDef::one("s7comm.function_name", T::Str),
    FieldDef::one("s7comm.rosctr", T::Str),
    FieldDef::one("s7comm.pdu_ref", T::Uint),
    FieldDef::one("s7comm.status", T::Str),
    FieldDef::one("s7comm.block_type", T::Str),
    FieldDef::one("s7comm.block_number", T::Uint),
    FieldDef::one("s7comm.block_name", T::Str),
    FieldDef::one("s7comm.pi_service", T::Str),
    FieldDef::one("s7comm.item_count", T::Uint),
    FieldDef::each("s7comm.item.area", T::Str, ITEMS),
    FieldDef::each("s7comm.item.area_code", T::Uint, ITEMS),
    FieldDef::each("s7comm.item.db", T::Uint, ITEMS),
    FieldDef::each("s7comm.item.address", T::Uint, ITEMS),
    FieldDef::each("s7comm.item.length", T::Uint, ITEMS),
    FieldDef::one("s7comm.error_class", T::Uint).answered(),
    FieldDef::one("s7comm.error_code", T::Uint).answered(),
    FieldDef::one("s7comm.userdata.type", T::Str),
    FieldDef::one("s7comm.userdata.function_group", T::Uint),
    FieldDef::one("s7comm.userdata.function_group_name", T::Str),
    FieldDef::one("s7comm.userdata.subfunction", T::Uint),
    FieldDef::one("s7comm.userdata.subfunction_name", T::Str),
    FieldDef::one("s7comm.userdata.error_code", T::Uint),
    FieldDef::one("s7comm.userdata.password", T::Bool),
    FieldDef::one("s7comm.szl_id", T::Uint),
    FieldDef::one("s7comm.szl_index", T::Uint),
];

/// The `s7comm` event's fields. `s7comm.item.*` is each variable a job reads or writes
/// (`item.address` in bytes); `s7comm.block_*` the block a transfer or PI service names.
pub static S7_SCHEMA: Schema =
    Schema { event_type: "s7comm", fields: &S7_FIELDS, groups: &["items"], keys: &[FieldId(FUNCTION), FieldId(UD_GROUP)] };

impl FieldAccess for JobEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &S7_SCHEMA
    }

    fn stage(&self) -> Stage {
        match self.status {
            Status::Request => Stage::Request,
            _ => Stage::Transaction,
        }
    }

    fn elements(&self, group: u8) -> usize {
        if group == ITEMS {
            self.job.facts.items.len()
        } else {
            0
        }
    }

    fn value(&self, id: FieldId, elem: usize) -> Option<FieldValue<'_>> {
        let f = &self.job.facts;
        let u = |v: u64| Some(FieldValue::U64(v));
        let item = || f.items.get(elem).and_then(Item::any);
        match id.0 {
            FUNCTION => u(u64::from(self.job.function)),
            FUNCTION_NAME => Some(FieldValue::Str(function_name(self.job.function))),
            ROSCTR => Some(FieldValue::Str("job")),
            PDU_REF => u(u64::from(self.job.pdu_ref)),
            STATUS => Some(FieldValue::Str(match self.status {
                Status::Complete => "complete",
                Status::Unanswered => "unanswered",
                Status::Unmatched => "unmatched",
                Status::Request => "request",
            })),
            BLOCK_TYPE => self.block().and_then(|b| b.block_type).map(FieldValue::Str),
            BLOCK_NUMBER => self.block().and_then(|b| b.block_number).and_then(|n| u(u64::from(n))),
            BLOCK_NAME => self.block().map(|b| FieldValue::Str(&b.filename)),
            PI_SERVICE => f.pi_service().map(FieldValue::Str),
            ITEM_COUNT => f.item_count.and_then(|c| u(u64::from(c))),
            ITEM_AREA => item().map(|i| FieldValue::Str(area_name(i.area))),
            ITEM_AREA_CODE => item().and_then(|i| u(u64::from(i.area))),
            ITEM_DB => item().and_then(|i| u(u64::from(i.db))),
            ITEM_ADDRESS => item().and_then(|i| u(u64::from(i.address >> 3))),
            ITEM_LENGTH => item().and_then(|i| u(u64::from(i.length))),
            ERROR_CLASS => self.error.and_then(|e| u(u64::from(e.0))),
            ERROR_CODE => self.error.and_then(|e| u(u64::from(e.2))),
            _ => None,
        }
    }
}

impl FieldAccess for UserDataEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &S7_SCHEMA
    }

    fn stage(&self) -> Stage {
        Stage::Message
    }

    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        let d = self.userdata;
        let u = |v: u64| Some(FieldValue::U64(v));
        match id.0 {
            ROSCTR => Some(FieldValue::Str("userdata")),
            PDU_REF => u(u64::from(self.pdu_ref)),
            UD_TYPE => Some(FieldValue::Str(d.kind)),
            UD_GROUP => u(u64::from(d.function_group)),
            UD_GROUP_NAME => Some(FieldValue::Str(d.function_group_name)),
            UD_SUB => u(u64::from(d.subfunction)),
            UD_SUB_NAME => Some(FieldValue::Str(d.subfunction_name)),
            UD_ERROR_CODE => d.error_code.and_then(|c| u(u64::from(c))),
            UD_PASSWORD => Some(FieldValue::Bool(d.password_length.is_some())),
            SZL_ID => d.szl.as_ref().and_then(|s| u(u64::from(s.id))),
            SZL_INDEX => d.szl.as_ref().and_then(|s| u(u64::from(s.index))),
            _ => None,
        }
    }
}

const PLUS_VERSION: u16 = 0;
const PLUS_OPCODE: u16 = 1;
const PLUS_FUNCTION: u16 = 2;
const PLUS_FUNCTION_NAME: u16 = 3;
const PLUS_INTEGRITY: u16 = 4;

static PLUS_FIELDS: [FieldDef; 5] = [
    FieldDef::one("s7comm_plus.version", T::Uint),
    FieldDef::one("s7comm_plus.opcode", T::Uint),
    FieldDef::one("s7comm_plus.function", T::Uint),
    FieldDef::one("s7comm_plus.function_name", T::Str),
    FieldDef::one("s7comm_plus.integrity", T::Bool),
];

pub static S7_PLUS_SCHEMA: Schema =
    Schema { event_type: "s7comm_plus", fields: &PLUS_FIELDS, groups: &[], keys: &[FieldId(PLUS_FUNCTION)] };

impl FieldAccess for PlusEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &S7_PLUS_SCHEMA
    }

    fn stage(&self) -> Stage {
        Stage::Message
    }

    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        let p = self.pdu;
        match id.0 {
            PLUS_VERSION => Some(FieldValue::U64(u64::from(p.version))),
            PLUS_OPCODE => p.opcode.map(|o| FieldValue::U64(u64::from(o))),
            PLUS_FUNCTION => p.function.map(|f| FieldValue::U64(u64::from(f))),
            PLUS_FUNCTION_NAME => p.function_name.map(FieldValue::Str),
            PLUS_INTEGRITY => Some(FieldValue::Bool(p.integrity)),
            _ => None,
        }
    }
}

const COTP_TYPE: u16 = 0;
const COTP_RACK: u16 = 1;
const COTP_SLOT: u16 = 2;

static COTP_FIELDS: [FieldDef; 3] =
    [FieldDef::one("cotp.type", T::Str), FieldDef::one("cotp.rack", T::Uint), FieldDef::one("cotp.slot", T::Uint)];

pub static COTP_SCHEMA: Schema = Schema { event_type: "cotp", fields: &COTP_FIELDS, groups: &[], keys: &[] };

impl FieldAccess for CotpEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &COTP_SCHEMA
    }

    fn stage(&self) -> Stage {
        Stage::Message
    }

    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        let rack_slot = || self.connection.and_then(|c| c.called_tsap).and_then(rack_slot);
        match id.0 {
            COTP_TYPE => Some(FieldValue::Str(self.kind.name())),
            COTP_RACK => rack_slot().map(|r| FieldValue::U64(u64::from(r.1))),
            COTP_SLOT => rack_slot().map(|r| FieldValue::U64(u64::from(r.2))),
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
            (FUNCTION, "s7comm.function"),
            (FUNCTION_NAME, "s7comm.function_name"),
            (ROSCTR, "s7comm.rosctr"),
            (PDU_REF, "s7comm.pdu_ref"),
            (STATUS, "s7comm.status"),
            (BLOCK_TYPE, "s7comm.block_type"),
            (BLOCK_NUMBER, "s7comm.block_number"),
            (BLOCK_NAME, "s7comm.block_name"),
            (PI_SERVICE, "s7comm.pi_service"),
            (ITEM_COUNT, "s7comm.item_count"),
            (ITEM_AREA, "s7comm.item.area"),
            (ITEM_AREA_CODE, "s7comm.item.area_code"),
            (ITEM_DB, "s7comm.item.db"),
            (ITEM_ADDRESS, "s7comm.item.address"),
            (ITEM_LENGTH, "s7comm.item.length"),
            (ERROR_CLASS, "s7comm.error_class"),
            (ERROR_CODE, "s7comm.error_code"),
            (UD_TYPE, "s7comm.userdata.type"),
            (UD_GROUP, "s7comm.userdata.function_group"),
            (UD_GROUP_NAME, "s7comm.userdata.function_group_name"),
            (UD_SUB, "s7comm.userdata.subfunction"),
            (UD_SUB_NAME, "s7comm.userdata.subfunction_name"),
            (UD_ERROR_CODE, "s7comm.userdata.error_code"),
            (UD_PASSWORD, "s7comm.userdata.password"),
            (SZL_ID, "s7comm.szl_id"),
            (SZL_INDEX, "s7comm.szl_index"),
        ];
        assert_eq!(ids.len(), S7_FIELDS.len());
        for (id, name) in ids {
            assert_eq!(S7_SCHEMA.find(name), Some(FieldId(id)), "{name}");
        }
        for (id, name) in
            [(PLUS_VERSION, "s7comm_plus.version"), (PLUS_OPCODE, "s7comm_plus.opcode"), (PLUS_FUNCTION, "s7comm_plus.function")]
        {
            assert_eq!(S7_PLUS_SCHEMA.find(name), Some(FieldId(id)), "{name}");
        }
        assert_eq!((PLUS_FUNCTION_NAME, PLUS_INTEGRITY), (3, 4));
        for (id, name) in [(COTP_TYPE, "cotp.type"), (COTP_RACK, "cotp.rack"), (COTP_SLOT, "cotp.slot")] {
            assert_eq!(COTP_SCHEMA.find(name), Some(FieldId(id)), "{name}");
        }
    }
}
