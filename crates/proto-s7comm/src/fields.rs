//! What rules read from S7comm jobs and user data, S7comm-plus PDUs and COTP TPDUs: the
//! schemas and their accessors. Jobs and user data share the `s7comm` schema; a field
//! that does not apply to one of them has no value there.
use crate::cotp::rack_slot;
use crate::names::{area_name, function_name};
use crate::record::{CotpEvent, JobEvent, PlusEvent, Status, UserDataEvent};
use crate::s7::Item;
use otsentry_core::{FieldAccess, FieldDef, FieldId, FieldType as T, FieldValue, Schema, Stage};

const ITEMS: u8 = 0;

otsentry_core::field_table!(S7_FIELDS:
    FUNCTION => FieldDef::one("s7comm.function", T::Uint).byte(),
    FUNCTION_NAME => FieldDef::one("s7comm.function_name", T::Str),
    ROSCTR => FieldDef::one("s7comm.rosctr", T::Str),
    PDU_REF => FieldDef::one("s7comm.pdu_ref", T::Uint).word(),
    STATUS => FieldDef::one("s7comm.status", T::Str),
    BLOCK_TYPE => FieldDef::one("s7comm.block_type", T::Str),
    BLOCK_NUMBER => FieldDef::one("s7comm.block_number", T::Uint).word(),
    BLOCK_NAME => FieldDef::one("s7comm.block_name", T::Str),
    PI_SERVICE => FieldDef::one("s7comm.pi_service", T::Str),
    ITEM_COUNT => FieldDef::one("s7comm.item_count", T::Uint),
    ITEM_AREA => FieldDef::each("s7comm.item.area", T::Str, ITEMS),
    ITEM_AREA_CODE => FieldDef::each("s7comm.item.area_code", T::Uint, ITEMS).byte(),
    ITEM_DB => FieldDef::each("s7comm.item.db", T::Uint, ITEMS).word(),
    ITEM_ADDRESS => FieldDef::each("s7comm.item.address", T::Uint, ITEMS),
    ITEM_LENGTH => FieldDef::each("s7comm.item.length", T::Uint, ITEMS),
    ERROR_CLASS => FieldDef::one("s7comm.error_class", T::Uint).answered().byte(),
    ERROR_CODE => FieldDef::one("s7comm.error_code", T::Uint).answered(),
    UD_TYPE => FieldDef::one("s7comm.userdata.type", T::Str),
    UD_GROUP => FieldDef::one("s7comm.userdata.function_group", T::Uint).at_most(15),
    UD_GROUP_NAME => FieldDef::one("s7comm.userdata.function_group_name", T::Str),
    UD_SUB => FieldDef::one("s7comm.userdata.subfunction", T::Uint).byte(),
    UD_SUB_NAME => FieldDef::one("s7comm.userdata.subfunction_name", T::Str),
    UD_ERROR_CODE => FieldDef::one("s7comm.userdata.error_code", T::Uint),
    UD_PASSWORD => FieldDef::one("s7comm.userdata.password", T::Bool),
    SZL_ID => FieldDef::one("s7comm.szl_id", T::Uint).word(),
    SZL_INDEX => FieldDef::one("s7comm.szl_index", T::Uint).word(),
);

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

otsentry_core::field_table!(PLUS_FIELDS:
    PLUS_VERSION => FieldDef::one("s7comm_plus.version", T::Uint),
    PLUS_OPCODE => FieldDef::one("s7comm_plus.opcode", T::Uint).byte(),
    PLUS_FUNCTION => FieldDef::one("s7comm_plus.function", T::Uint).word(),
    PLUS_FUNCTION_NAME => FieldDef::one("s7comm_plus.function_name", T::Str),
    PLUS_INTEGRITY => FieldDef::one("s7comm_plus.integrity", T::Bool),
    PLUS_OBJECT_ID => FieldDef::one("s7comm_plus.object_id", T::Uint),
    PLUS_SESSION_CLOSE => FieldDef::one("s7comm_plus.session_close", T::Bool),
);

pub static S7_PLUS_SCHEMA: Schema =
    Schema { event_type: "s7comm_plus", fields: &PLUS_FIELDS, groups: &[], keys: &[FieldId(PLUS_FUNCTION)] };

impl FieldAccess for PlusEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &S7_PLUS_SCHEMA
    }
    fn value(&self, id: FieldId, _elem: usize) -> Option<FieldValue<'_>> {
        let p = self.pdu;
        match id.0 {
            PLUS_VERSION => Some(FieldValue::U64(u64::from(p.version))),
            PLUS_OPCODE => p.opcode.map(|o| FieldValue::U64(u64::from(o))),
            PLUS_FUNCTION => p.function.map(|f| FieldValue::U64(u64::from(f))),
            PLUS_FUNCTION_NAME => p.function_name.map(FieldValue::Str),
            PLUS_INTEGRITY => Some(FieldValue::Bool(p.integrity)),
            PLUS_OBJECT_ID => p.object_id.map(|o| FieldValue::U64(u64::from(o))),
            PLUS_SESSION_CLOSE => p.session_close.map(FieldValue::Bool),
            _ => None,
        }
    }
}

otsentry_core::field_table!(COTP_FIELDS:
    COTP_TYPE => FieldDef::one("cotp.type", T::Str),
    COTP_RACK => FieldDef::one("cotp.rack", T::Uint).at_most(7),
    COTP_SLOT => FieldDef::one("cotp.slot", T::Uint),
);

pub static COTP_SCHEMA: Schema = Schema { event_type: "cotp", fields: &COTP_FIELDS, groups: &[], keys: &[] };

impl FieldAccess for CotpEvent<'_> {
    fn schema(&self) -> &'static Schema {
        &COTP_SCHEMA
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
    fn the_field_table_is_sound() {
        assert_eq!(S7_SCHEMA.lint(), Ok(()));
        assert_eq!(S7_PLUS_SCHEMA.lint(), Ok(()));
        assert_eq!(COTP_SCHEMA.lint(), Ok(()));
    }
}
