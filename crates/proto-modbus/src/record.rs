//! The EVE `modbus` record: one per transaction, request fields owned (the request was
//! seen in an earlier delivery), response fields borrowed from the stream.
use crate::function::{device_object_name, diagnostic_name, exception_name, umas_name, Function};
use crate::pdu::{Request, Response};
use otsentry_core::{Capped, PduEvent, Timestamp};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

/// What a request said, kept until its response arrives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub ts: Timestamp,
    pub transaction_id: u16,
    pub unit_id: u8,
    pub function: u8,
    pub address: Option<u16>,
    pub quantity: Option<u16>,
    /// Function 23's write range.
    pub write_address: Option<u16>,
    pub write_quantity: Option<u16>,
    /// Written registers (5/6 single value included; coils as 0/1 per coil).
    pub values: Vec<u16>,
    pub masks: Option<(u16, u16)>,
    pub diagnostic: Option<u16>,
    pub mei_type: Option<u8>,
    pub read_device_id: Option<(u8, u8)>,
    pub umas: Option<(u8, u8)>,
    /// Function 20/21 sub-requests: (file, record, length).
    pub file_records: Vec<(u16, u16, u16)>,
    /// Distinct unit ids the connection had addressed when this request came, its own
    /// included: a walk of the ids shows whatever the answers (or their absence).
    pub units_addressed: u16,
}

fn registers(bytes: &[u8]) -> Vec<u16> {
    bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)])).collect()
}

/// A single-coil write's 0xFF00 / 0x0000 as 1 / 0 (other values kept raw).
pub(crate) fn single_value(function: Function, value: u16) -> u16 {
    match (function, value) {
        (Function::WRITE_SINGLE_COIL, 0xFF00) => 1,
        (Function::WRITE_SINGLE_COIL, 0x0000) => 0,
        _ => value,
    }
}

fn coils(bytes: &[u8], quantity: u16) -> Vec<u16> {
    (0..usize::from(quantity)).map(|i| bytes.get(i / 8).map_or(0, |b| u16::from(b >> (i % 8) & 1))).collect()
}

impl RequestInfo {
    pub fn from_request(ts: Timestamp, transaction_id: u16, unit_id: u8, raw_function: u8, req: &Request<'_>) -> Self {
        let mut r = RequestInfo { ts, transaction_id, unit_id, function: raw_function, ..Default::default() };
        match *req {
            Request::Read { address, quantity, .. } => (r.address, r.quantity) = (Some(address), Some(quantity)),
            Request::WriteSingle { function, address, value } => {
                (r.address, r.quantity, r.values) = (Some(address), Some(1), vec![single_value(function, value)]);
            }
            Request::WriteMultiple { function, address, quantity, values } => {
                (r.address, r.quantity) = (Some(address), Some(quantity));
                r.values = if function == Function::WRITE_MULTIPLE_COILS { coils(values, quantity) } else { registers(values) };
            }
            Request::MaskWrite { address, and_mask, or_mask } => (r.address, r.masks) = (Some(address), Some((and_mask, or_mask))),
            Request::ReadWrite { read_address, read_quantity, write_address, write_quantity, values } => {
                (r.address, r.quantity) = (Some(read_address), Some(read_quantity));
                (r.write_address, r.write_quantity) = (Some(write_address), Some(write_quantity));
                r.values = registers(values);
            }
            Request::ReadFifo { address } => r.address = Some(address),
            Request::Diagnostic { sub, .. } => r.diagnostic = Some(sub),
            Request::Mei { mei_type, read_device_id, .. } => (r.mei_type, r.read_device_id) = (Some(mei_type), read_device_id),
            Request::Umas { session, code, .. } => r.umas = Some((session, code)),
            Request::FileRecords { function, data } => {
                r.file_records = crate::pdu::file_records(data, function.0 == 21).map(|f| (f.file, f.record, f.length)).collect();
            }
            Request::Plain { .. } | Request::Other { .. } => {}
        }
        r
    }
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Complete,
    /// A request that never got its response.
    Unanswered,
    /// A response with no request before it.
    Unsolicited,
    /// A request as it arrives, before its answer (seen by rules, not written).
    Request,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Unanswered => "unanswered",
            Status::Unsolicited => "unsolicited",
            Status::Request => "request",
        }
    }
}

/// One transaction as an event.
#[derive(Clone, Debug)]
pub struct Transaction<'a> {
    /// Order of this transaction's record within its flow, from 1.
    pub tx_id: u64,
    pub transaction_id: u16,
    pub unit_id: u8,
    pub function: Function,
    pub request: Option<&'a RequestInfo>,
    pub response: Option<&'a Response<'a>>,
    pub response_time_us: Option<i64>,
    pub status: Status,
}

impl Transaction<'_> {
    pub(crate) fn exception(&self) -> Option<u8> {
        match self.response {
            Some(Response::Exception { code, .. }) => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn umas(&self) -> Option<(u8, u8)> {
        self.request.and_then(|r| r.umas)
    }

    pub(crate) fn address(&self) -> Option<u16> {
        self.request.and_then(|r| r.address).or(match self.response {
            Some(Response::WriteSingle { address, .. } | Response::WriteMultiple { address, .. } | Response::MaskWrite { address, .. }) => {
                Some(*address)
            }
            _ => None,
        })
    }

    pub(crate) fn quantity(&self) -> Option<u16> {
        self.request.and_then(|r| r.quantity).or(match self.response {
            Some(Response::WriteMultiple { quantity, .. }) => Some(*quantity),
            _ => None,
        })
    }

    /// Values the response carried: registers, or coil/input bits for 1 and 2.
    /// The values a response carries, read from its bytes as they are written out.
    fn response_values(&self) -> Option<Values<'_>> {
        match self.response? {
            Response::Read { function, data } if function.0 <= 2 => {
                let quantity = self.request.and_then(|r| r.quantity).unwrap_or((data.len() * 8) as u16);
                Some(Values::Coils { bytes: data, next: 0, quantity })
            }
            Response::Read { data, .. } | Response::ReadFifo { data, .. } => Some(Values::Registers(data.chunks_exact(2))),
            Response::WriteSingle { function, value, .. } => Some(Values::One(Some(single_value(*function, *value)))),
            _ => None,
        }
    }
}

/// A response's register or coil values, without a vector.
#[derive(Clone)]
enum Values<'a> {
    Coils { bytes: &'a [u8], next: u16, quantity: u16 },
    Registers(std::slice::ChunksExact<'a, u8>),
    One(Option<u16>),
}

impl Iterator for Values<'_> {
    type Item = u16;
    fn next(&mut self) -> Option<u16> {
        match self {
            Values::Coils { bytes, next, quantity } => {
                let i = usize::from(*next);
                (*next < *quantity).then(|| {
                    *next += 1;
                    bytes.get(i / 8).map_or(0, |b| u16::from(b >> (i % 8) & 1))
                })
            }
            Values::Registers(chunks) => {
                chunks.next().map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
            }
            Values::One(v) => v.take(),
        }
    }
}

/// A UMAS request (Schneider's function 90) and its answer's status.
#[derive(Serialize)]
struct Umas {
    function: u8,
    function_name: &'static str,
    session: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

struct Named(u8, &'static str);

impl Serialize for Named {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("code", &self.0)?;
        m.serialize_field("name", self.1)?;
        m.end()
    }
}

/// One identification object (vendor, product code, revision...) as text.
#[derive(Serialize)]
struct DeviceObject<'a> {
    id: u8,
    name: &'static str,
    value: std::borrow::Cow<'a, str>,
}

struct DeviceObjects<'r>(&'r crate::pdu::DeviceId<'r>);

impl Serialize for DeviceObjects<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = otsentry_core::open_object(s)?;
        m.serialize_field("read_device_id_code", &d.code)?;
        m.serialize_field("conformity_level", &d.conformity)?;
        m.serialize_field("more_follows", &d.more_follows)?;
        m.serialize_field("next_object_id", &d.next_object)?;
        let objects: Vec<_> =
            d.objects().map(|(id, v)| DeviceObject { id, name: device_object_name(id), value: String::from_utf8_lossy(v) }).collect();
        m.serialize_field("objects", &objects)?;
        m.end()
    }
}

impl Serialize for Transaction<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = otsentry_core::open_object(s)?;
        let f = self.function;
        if self.status != Status::Request {
            m.serialize_field("tx_id", &self.tx_id)?;
        }
        m.serialize_field("transaction_id", &self.transaction_id)?;
        m.serialize_field("unit_id", &self.unit_id)?;
        m.serialize_field("function", &f.0)?;
        m.serialize_field("function_name", f.name())?;
        m.serialize_field("category", f.category().as_str())?;
        m.serialize_field("access", f.access().as_str())?;
        if let Some(t) = f.data_type() {
            m.serialize_field("data_type", t.as_str())?;
        }
        m.serialize_field("status", self.status.as_str())?;
        if let Some(a) = self.address() {
            m.serialize_field("address", &a)?;
        }
        if let Some(q) = self.quantity() {
            m.serialize_field("quantity", &q)?;
        }
        if let Some(r) = self.request {
            if let (Some(a), Some(q)) = (r.write_address, r.write_quantity) {
                m.serialize_field("write_address", &a)?;
                m.serialize_field("write_quantity", &q)?;
            }
            if !r.values.is_empty() {
                let values = Capped::new(r.values.iter());
                m.serialize_field("values", &values)?;
                if values.left_out() > 0 {
                    m.serialize_field("values_omitted", &values.left_out())?;
                }
            }
            if let Some((and_mask, or_mask)) = r.masks {
                m.serialize_field("and_mask", &and_mask)?;
                m.serialize_field("or_mask", &or_mask)?;
            }
            if let Some(sub) = r.diagnostic {
                m.serialize_field("diagnostic", &Named(sub as u8, diagnostic_name(sub)))?;
            }
            if let Some(t) = r.mei_type {
                m.serialize_field("mei_type", &t)?;
            }
            if !r.file_records.is_empty() {
                let records: Vec<_> = r.file_records.iter().map(|&(file, record, length)| [file, record, length]).collect();
                m.serialize_field("file_records", &records)?;
            }
        }
        if let Some(v) = self.response_values() {
            let values = Capped::new(v);
            m.serialize_field("response_values", &values)?;
            if values.left_out() > 0 {
                m.serialize_field("response_values_omitted", &values.left_out())?;
            }
        }
        if let Some(code) = self.exception() {
            m.serialize_field("exception", &Named(code, exception_name(code).unwrap_or("undefined")))?;
        }
        if let Some(Response::DeviceId(d)) = self.response {
            m.serialize_field("device_identification", &DeviceObjects(d))?;
        }
        if let Some((session, code)) = self.umas() {
            let status = match self.response {
                Some(Response::Umas { status: 0xFE, .. }) => Some("ok"),
                Some(Response::Umas { status: 0xFD, .. }) => Some("error"),
                Some(Response::Umas { .. }) => Some("unknown"),
                _ => None,
            };
            m.serialize_field("umas", &Umas { session, function: code, function_name: umas_name(code), status })?;
        }
        if let Some(t) = self.response_time_us {
            m.serialize_field("response_time_us", &t)?;
        }
        m.end()
    }
}

impl<'a> PduEvent for Transaction<'a> {
    type Body = Transaction<'a>;
    fn event_type(&self) -> &'static str {
        "modbus"
    }
    fn body(&self) -> &Transaction<'a> {
        self
    }
    /// A request's class, on its arrival (its transaction record has none: the
    /// request was judged when it came).
    fn function_class(&self) -> Option<otsentry_core::FunctionClass> {
        let r = self.request.filter(|_| self.status == Status::Request)?;
        Some(crate::class::function_class(self.function.0, r.diagnostic, r.mei_type, r.umas.map(|(_, code)| code)))
    }
    fn observe(&self, o: &mut dyn otsentry_core::Observer) {
        observe(self, o);
    }
    fn identifies(&self) -> bool {
        matches!(self.response, Some(Response::DeviceId(_)))
    }
    fn response_time_us(&self) -> Option<i64> {
        self.response_time_us
    }
}

/// What a baseline learns of a Modbus transaction (see [`PduEvent::observe`]): the
/// request as it arrives, with the sub-function folded into the code (`8 << 16 | sub`
/// for diagnostics, `43 << 8 | MEI type`, `90 << 8 | UMAS code`), its range and written
/// values; the device identification objects of a complete read-device-id answer.
pub(crate) fn observe(t: &Transaction<'_>, o: &mut dyn otsentry_core::Observer) {
    use crate::function::{diagnostic_name, umas_name};
    use crate::space::ModbusTable as T;
    if let (Status::Complete, Some(Response::DeviceId(d))) = (t.status, t.response) {
        for (id, value) in d.objects() {
            let attribute = match id {
                0x00 => "vendor",
                0x01 => "product",
                0x02 => "firmware",
                0x04 => "name",
                0x05 => "model",
                _ => continue,
            };
            o.identity(attribute, String::from_utf8_lossy(value).trim_end_matches(['\0', ' ']));
        }
        return;
    }
    let (Status::Request, Some(r)) = (t.status, t.request) else { return };
    let f = t.function;
    let code = u32::from(f.0);
    match (f.0, r.diagnostic, r.mei_type, r.umas) {
        (8, Some(sub), _, _) => o.function(code << 16 | u32::from(sub), diagnostic_name(sub)),
        (43, _, Some(mei), _) => o.function(code << 8 | u32::from(mei), if mei == 0x0E { "read_device_identification" } else { f.name() }),
        (90, _, _, Some((_, umas))) => o.function(code << 8 | u32::from(umas), umas_name(umas)),
        _ => o.function(code, f.name()),
    }
    let space = |table| crate::space::space(t.unit_id, table);
    let table = match f.0 {
        1 | 5 | 15 => Some(T::Coils),
        2 => Some(T::DiscreteInputs),
        4 => Some(T::InputRegisters),
        3 | 6 | 16 | 22 | 23 | 24 => Some(T::HoldingRegisters),
        _ => None,
    };
    let write = matches!(f.0, 5 | 6 | 15 | 16 | 22);
    if let (Some(table), Some(address)) = (table, r.address) {
        o.range(space(table), u32::from(address), u32::from(r.quantity.unwrap_or(1)), write);
        if write {
            for (i, v) in r.values.iter().enumerate() {
                o.value(space(table), u32::from(address) + i as u32, f64::from(*v));
            }
        }
    }
    if let (Some(address), Some(quantity)) = (r.write_address, r.write_quantity) {
        o.range(space(T::HoldingRegisters), u32::from(address), u32::from(quantity), true);
        for (i, v) in r.values.iter().enumerate() {
            o.value(space(T::HoldingRegisters), u32::from(address) + i as u32, f64::from(*v));
        }
    }
    for &(file, record, length) in &r.file_records {
        o.range(space(T::File(file)), u32::from(record), u32::from(length), f.0 == 21);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::Function;
    use crate::pdu::{parse_request, parse_response};
    use otsentry_core::harness::Recorder;

    fn transaction<'a>(
        status: Status,
        request: Option<&'a RequestInfo>,
        response: Option<&'a Response<'a>>,
        function: u8,
    ) -> Transaction<'a> {
        Transaction {
            tx_id: 1,
            transaction_id: 1,
            unit_id: 1,
            function: Function(function),
            request,
            response,
            response_time_us: None,
            status,
        }
    }

    #[test]
    fn a_baseline_learns_a_request_on_arrival_and_the_identity_from_its_answer() {
        // Write multiple registers: 16 and 17 := 40, 41.
        let pdu = [0x10, 0x00, 0x10, 0x00, 0x02, 0x04, 0x00, 0x28, 0x00, 0x29];
        let (req, _) = parse_request(&pdu);
        let info = RequestInfo::from_request(Timestamp::default(), 1, 1, 0x10, &req);
        let mut r = Recorder::default();
        transaction(Status::Request, Some(&info), None, 0x10).observe(&mut r);
        let holding = "modbus/unit1/holding_registers";
        assert_eq!(
            r.calls,
            [
                "function 16 write_multiple_registers".to_string(),
                format!("range {holding} 16+2 write=true"),
                format!("value {holding} 16 = 40"),
                format!("value {holding} 17 = 41"),
            ]
        );
        // The same transaction's record, once answered, tells nothing more.
        let mut r = Recorder::default();
        transaction(Status::Complete, Some(&info), None, 0x10).observe(&mut r);
        assert!(r.calls.is_empty());
        // Read device identification, answered: vendor, product code, revision.
        let (req, _) = parse_request(&[0x2B, 0x0E, 0x01, 0x00]);
        let info = RequestInfo::from_request(Timestamp::default(), 2, 1, 0x2B, &req);
        let mut r = Recorder::default();
        transaction(Status::Request, Some(&info), None, 0x2B).observe(&mut r);
        assert_eq!(r.calls, ["function 11022 read_device_identification"]);
        let answer = [
            0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x03, 0x00, 0x04, b'A', b'c', b'm', b'e', 0x01, 0x02, b'P', b'1', 0x02, 0x03, b'1', b'.',
            b'0',
        ];
        let (resp, _) = parse_response(&answer);
        let t = transaction(Status::Complete, Some(&info), Some(&resp), 0x2B);
        assert!(t.identifies());
        let mut r = Recorder::default();
        t.observe(&mut r);
        assert_eq!(r.calls, ["identity vendor Acme", "identity product P1", "identity firmware 1.0"]);
    }
}
