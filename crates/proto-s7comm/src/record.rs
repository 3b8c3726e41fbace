//! EVE records: `s7comm` (a job with its ack, or one user data PDU), `s7comm_plus` and
//! `cotp`, and the fields rules read from them.
use crate::cotp::{rack_slot, Connection, Kind};
use crate::names::{function_name, rosctr_name};
use crate::plus::PlusPdu;
use crate::s7::Facts;
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
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        Some(crate::class::job_class(self.job.function, self.job.facts.pi_service()))
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
