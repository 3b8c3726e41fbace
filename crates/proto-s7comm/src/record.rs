//! EVE records: `s7comm` (a job with its ack, or one user data PDU), `s7comm_plus` and
//! `cotp`, and the fields rules read from them.
use crate::cotp::{rack_slot, Connection, Kind};
use crate::names::{area_name, function_name, rosctr_name};
use crate::plus::PlusPdu;
use crate::s7::{hex, Facts, Item};
use crate::userdata::UserData;
use otsentry_core::{Direction, FieldAccess, FieldValue, PduEvent, Timestamp};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A job waiting for its ack: what the `s7comm` record of the pair reports.
#[derive(Debug)]
pub(crate) struct OpenJob {
    /// Who sent the job: usually the client, but in a download the PLC asks for blocks.
    pub(crate) dir: Direction,
    pub(crate) pdu_ref: u16,
    pub(crate) function: u8,
    pub(crate) ts: Timestamp,
    pub(crate) facts: Facts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    Unanswered,
    /// An ack whose job was not seen (a capture that starts midway, or a gap).
    Unmatched,
}

/// A job and its ack (or ack-data).
pub struct JobEvent<'a> {
    pub tx_id: u64,
    pub(crate) job: &'a OpenJob,
    pub response_rosctr: Option<u8>,
    pub response: Option<&'a Facts>,
    /// Error class, its name, error code.
    pub error: Option<(u8, &'static str, u8)>,
    pub response_time_us: Option<u64>,
    pub status: Status,
    pub rack_slot: Option<(u8, u8)>,
}

impl Serialize for JobEvent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tx_id", &self.tx_id)?;
        m.serialize_entry("rosctr", "job")?;
        m.serialize_entry("pdu_ref", &self.job.pdu_ref)?;
        m.serialize_entry("function", &self.job.function)?;
        m.serialize_entry("function_name", function_name(self.job.function))?;
        m.serialize_entry("status", &self.status)?;
        if self.status != Status::Unmatched {
            m.serialize_entry("request", &self.job.facts)?;
        }
        if let Some(r) = self.response_rosctr {
            m.serialize_entry("response_rosctr", rosctr_name(r))?;
        }
        if let Some(r) = self.response {
            m.serialize_entry("response", r)?;
        }
        if let Some((class, name, code)) = self.error {
            m.serialize_entry("error_class", &class)?;
            m.serialize_entry("error_class_name", name)?;
            m.serialize_entry("error_code", &code)?;
        }
        if let Some(t) = self.response_time_us {
            m.serialize_entry("response_time_us", &t)?;
        }
        if let Some((rack, slot)) = self.rack_slot {
            m.serialize_entry("rack", &rack)?;
            m.serialize_entry("slot", &slot)?;
        }
        m.end()
    }
}

impl JobEvent<'_> {
    /// The block a transfer names, from the job or its response.
    fn block(&self) -> Option<&crate::s7::Block> {
        self.job.facts.block().or(self.response.and_then(Facts::block))
    }
}

impl FieldAccess for JobEvent<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let f = &self.job.facts;
        match name {
            "s7comm.rosctr" => Some(FieldValue::Str("job")),
            "s7comm.function" => Some(FieldValue::U64(u64::from(self.job.function))),
            "s7comm.function_name" => Some(FieldValue::Str(function_name(self.job.function))),
            "s7comm.pdu_ref" => Some(FieldValue::U64(u64::from(self.job.pdu_ref))),
            "s7comm.block_type" => self.block().and_then(|b| b.block_type).map(FieldValue::Str),
            "s7comm.block_number" => self.block().and_then(|b| b.block_number).map(|n| FieldValue::U64(u64::from(n))),
            "s7comm.pi_service" => f.pi_service().map(FieldValue::Str),
            "s7comm.item_count" => f.item_count.map(|c| FieldValue::U64(u64::from(c))),
            "s7comm.area" => f.items.first().and_then(Item::any).map(|i| FieldValue::Str(area_name(i.area))),
            "s7comm.db" => f.items.first().and_then(Item::any).map(|i| FieldValue::U64(u64::from(i.db))),
            "s7comm.error_class" => self.error.map(|e| FieldValue::U64(u64::from(e.0))),
            _ => None,
        }
    }
}

impl<'a> PduEvent for JobEvent<'a> {
    type Body = JobEvent<'a>;
    fn event_type(&self) -> &'static str {
        "s7comm"
    }
    fn body(&self) -> &JobEvent<'a> {
        self
    }
}

/// One user data PDU.
#[derive(Serialize)]
pub struct UserDataEvent<'a> {
    pub tx_id: u64,
    pub pdu_ref: u16,
    pub userdata: &'a UserData,
}

impl FieldAccess for UserDataEvent<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let u = self.userdata;
        match name {
            "s7comm.rosctr" => Some(FieldValue::Str("userdata")),
            "s7comm.pdu_ref" => Some(FieldValue::U64(u64::from(self.pdu_ref))),
            "s7comm.userdata.type" => Some(FieldValue::Str(u.kind)),
            "s7comm.userdata.function_group" => Some(FieldValue::U64(u64::from(u.function_group))),
            "s7comm.userdata.function_group_name" => Some(FieldValue::Str(u.function_group_name)),
            "s7comm.userdata.subfunction" => Some(FieldValue::U64(u64::from(u.subfunction))),
            "s7comm.userdata.subfunction_name" => Some(FieldValue::Str(u.subfunction_name)),
            "s7comm.szl_id" => u.szl.as_ref().map(|s| FieldValue::U64(u64::from(s.id))),
            "s7comm.szl_index" => u.szl.as_ref().map(|s| FieldValue::U64(u64::from(s.index))),
            _ => None,
        }
    }
}

impl<'a> PduEvent for UserDataEvent<'a> {
    type Body = UserDataEvent<'a>;
    fn event_type(&self) -> &'static str {
        "s7comm"
    }
    fn body(&self) -> &UserDataEvent<'a> {
        self
    }
}

/// One S7comm-plus PDU.
#[derive(Serialize)]
pub struct PlusEvent<'a> {
    pub tx_id: u64,
    #[serde(flatten)]
    pub pdu: &'a PlusPdu,
}

impl FieldAccess for PlusEvent<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let p = self.pdu;
        match name {
            "s7comm_plus.version" => Some(FieldValue::U64(u64::from(p.version))),
            "s7comm_plus.opcode" => p.opcode.map(|o| FieldValue::U64(u64::from(o))),
            "s7comm_plus.function" => p.function.map(|f| FieldValue::U64(u64::from(f))),
            "s7comm_plus.function_name" => p.function_name.map(FieldValue::Str),
            "s7comm_plus.integrity" => Some(FieldValue::Bool(p.integrity)),
            _ => None,
        }
    }
}

impl<'a> PduEvent for PlusEvent<'a> {
    type Body = PlusEvent<'a>;
    fn event_type(&self) -> &'static str {
        "s7comm_plus"
    }
    fn body(&self) -> &PlusEvent<'a> {
        self
    }
}

/// A COTP connection set-up, disconnect or error TPDU.
pub struct CotpEvent<'a> {
    pub kind: Kind,
    pub fixed: &'a [u8],
    pub connection: Option<Connection<'a>>,
}

impl Serialize for CotpEvent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.kind.name())?;
        if let Some(c) = &self.connection {
            m.serialize_entry("src_ref", &c.src_ref)?;
            m.serialize_entry("dst_ref", &c.dst_ref)?;
            m.serialize_entry("class", &c.class)?;
            if let Some(size) = c.tpdu_size {
                m.serialize_entry("tpdu_size", &size)?;
            }
            for (name, tsap) in [("calling_tsap", c.calling_tsap), ("called_tsap", c.called_tsap)] {
                if let Some(t) = tsap {
                    m.serialize_entry(name, &hex(t))?;
                }
            }
            if let Some((kind, rack, slot)) = c.called_tsap.and_then(rack_slot) {
                m.serialize_entry("connection_type", &kind)?;
                m.serialize_entry("rack", &rack)?;
                m.serialize_entry("slot", &slot)?;
            }
        } else {
            // Disconnects: references then the reason; errors: reference then the cause.
            let reason = match self.kind {
                Kind::Error => self.fixed.get(2),
                _ => self.fixed.get(4),
            };
            if let Some(r) = reason {
                m.serialize_entry("reason", r)?;
            }
        }
        m.end()
    }
}

impl FieldAccess for CotpEvent<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        match name {
            "cotp.type" => Some(FieldValue::Str(self.kind.name())),
            "cotp.rack" => self.connection.and_then(|c| c.called_tsap).and_then(rack_slot).map(|r| FieldValue::U64(u64::from(r.1))),
            "cotp.slot" => self.connection.and_then(|c| c.called_tsap).and_then(rack_slot).map(|r| FieldValue::U64(u64::from(r.2))),
            _ => None,
        }
    }
}

impl<'a> PduEvent for CotpEvent<'a> {
    type Body = CotpEvent<'a>;
    fn event_type(&self) -> &'static str {
        "cotp"
    }
    fn body(&self) -> &CotpEvent<'a> {
        self
    }
}
