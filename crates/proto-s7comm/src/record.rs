//! EVE records: `s7comm` (a job with its ack, or one user data PDU), `s7comm_plus` and
//! `cotp`, and the fields rules read from them.
use crate::cotp::{rack_slot, Connection, Kind};
use crate::names::{function_name, rosctr_name};
use crate::plus::PlusPdu;
use crate::s7::{self, Facts};
use crate::userdata::UserData;
use otsentry_core::{Direction, PduEvent, Timestamp};
use serde::ser::{SerializeStruct, Serializer};
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
    /// A job as it arrives, before its ack (seen by rules, not written).
    Request,
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
        let mut m = otsentry_core::open_object(s)?;
        if self.status != Status::Request {
            m.serialize_field("tx_id", &self.tx_id)?;
        }
        m.serialize_field("rosctr", "job")?;
        m.serialize_field("pdu_ref", &self.job.pdu_ref)?;
        m.serialize_field("function", &self.job.function)?;
        m.serialize_field("function_name", function_name(self.job.function))?;
        m.serialize_field("status", &self.status)?;
        if self.status != Status::Unmatched {
            m.serialize_field("request", &self.job.facts)?;
        }
        if let Some(r) = self.response_rosctr {
            m.serialize_field("response_rosctr", rosctr_name(r))?;
        }
        if let Some(r) = self.response {
            m.serialize_field("response", r)?;
        }
        if let Some((class, name, code)) = self.error {
            m.serialize_field("error_class", &class)?;
            m.serialize_field("error_class_name", name)?;
            m.serialize_field("error_code", &code)?;
        }
        if let Some(t) = self.response_time_us {
            m.serialize_field("response_time_us", &t)?;
        }
        if let Some((rack, slot)) = self.rack_slot {
            m.serialize_field("rack", &rack)?;
            m.serialize_field("slot", &slot)?;
        }
        m.end()
    }
}

impl JobEvent<'_> {
    /// The block a transfer names, from the job or its response.
    pub(crate) fn block(&self) -> Option<&crate::s7::Block> {
        self.job.facts.block().or(self.response.and_then(Facts::block))
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
    /// A job's class, on its arrival (its record with the ack has none: the job was
    /// judged when it came).
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        (self.status == Status::Request).then(|| crate::class::job_class(self.job.function, self.job.facts.pi_service()))
    }
    fn observe(&self, o: &mut dyn otsentry_core::Observer) {
        observe_job(self, o);
    }
    fn response_time_us(&self) -> Option<i64> {
        self.response_time_us.and_then(|t| i64::try_from(t).ok())
    }
}

/// One user data PDU.
#[derive(Serialize)]
pub struct UserDataEvent<'a> {
    pub tx_id: u64,
    pub pdu_ref: u16,
    pub userdata: &'a UserData,
}

impl<'a> PduEvent for UserDataEvent<'a> {
    type Body = UserDataEvent<'a>;
    fn event_type(&self) -> &'static str {
        "s7comm"
    }
    fn body(&self) -> &UserDataEvent<'a> {
        self
    }
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        let u = self.userdata;
        (u.kind == "request").then(|| crate::class::userdata_class(u.function_group, u.subfunction))
    }
    fn observe(&self, o: &mut dyn otsentry_core::Observer) {
        observe_userdata(self.userdata, o);
    }
    fn identifies(&self) -> bool {
        self.userdata.szl.as_ref().is_some_and(|s| !s.modules.is_empty() || !s.components.is_empty())
    }
}

/// One S7comm-plus PDU.
#[derive(Serialize)]
pub struct PlusEvent<'a> {
    pub tx_id: u64,
    #[serde(flatten)]
    pub pdu: &'a PlusPdu,
}

impl<'a> PduEvent for PlusEvent<'a> {
    type Body = PlusEvent<'a>;
    fn event_type(&self) -> &'static str {
        "s7comm_plus"
    }
    fn body(&self) -> &PlusEvent<'a> {
        self
    }
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        // Requests carry a function; notifications and responses are classed by theirs.
        self.pdu.function.map(crate::class::plus_class)
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
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("type", self.kind.name())?;
        if let Some(c) = &self.connection {
            m.serialize_field("src_ref", &c.src_ref)?;
            m.serialize_field("dst_ref", &c.dst_ref)?;
            m.serialize_field("class", &c.class)?;
            if let Some(size) = c.tpdu_size {
                m.serialize_field("tpdu_size", &size)?;
            }
            for (name, tsap) in [("calling_tsap", c.calling_tsap), ("called_tsap", c.called_tsap)] {
                if let Some(t) = tsap {
                    m.serialize_field(name, &otsentry_core::Hex(t))?;
                }
            }
            if let Some((kind, rack, slot)) = c.called_tsap.and_then(rack_slot) {
                m.serialize_field("connection_type", &kind)?;
                m.serialize_field("rack", &rack)?;
                m.serialize_field("slot", &slot)?;
            }
        } else {
            // Disconnects: references then the reason; errors: reference then the cause.
            let reason = match self.kind {
                Kind::Error => self.fixed.get(2),
                _ => self.fixed.get(4),
            };
            if let Some(r) = reason {
                m.serialize_field("reason", r)?;
            }
        }
        m.end()
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

/// What a baseline learns of an S7 job as it arrives: its function; for read and write
/// var, each S7ANY item's area, DB and byte range; for a write, each element's value
/// (the first 32 bytes of an item) at its byte address.
pub(crate) fn observe_job(e: &JobEvent<'_>, o: &mut dyn otsentry_core::Observer) {
    if e.status != Status::Request {
        return;
    }
    let function = e.job.function;
    o.function(u32::from(function), function_name(function));
    let write = function == 0x05;
    if !matches!(function, 0x04 | 0x05) {
        return;
    }
    let facts = &e.job.facts;
    for (i, item) in facts.items.iter().enumerate() {
        let Some(a) = item.any() else { continue };
        let space = crate::space::space(a.area, a.db);
        let size = crate::values::element_size(a.transport_size);
        let start = a.address >> 3;
        o.range(space, start, u32::from(a.length) * size as u32, write);
        let data = facts.data_items.get(i).filter(|_| write);
        for (offset, element) in data.into_iter().flat_map(s7::DataItem::values) {
            o.value(space, start + offset as u32, element.as_f64());
        }
    }
}

/// User data: a request's group and sub-function (`0x1000 | group << 8 | sub`); a
/// response's module and component identification (SZL 0x0011, 0x001C).
pub(crate) fn observe_userdata(u: &UserData, o: &mut dyn otsentry_core::Observer) {
    if u.kind == "request" {
        o.function(0x1000 | u32::from(u.function_group) << 8 | u32::from(u.subfunction), u.subfunction_name);
        return;
    }
    let Some(szl) = &u.szl else { return };
    for m in &szl.modules {
        match m.what {
            "module" => {
                o.identity("model", &m.order_number);
                o.identity("firmware", &m.version);
            }
            "basic_hardware" => o.identity("hardware", &m.version),
            "basic_firmware" => o.identity("firmware", &m.version),
            _ => {}
        }
    }
    for c in &szl.components {
        match c.what {
            "plc_name" => o.identity("name", &c.value),
            "module_type_name" => o.identity("product", &c.value),
            "serial_number" => o.identity("serial", &c.value),
            _ => {}
        }
    }
}
