//! Typed request and response PDUs, borrowed from the ADU. A PDU whose length or values
//! break the specification still parses (as far as it frames) and carries [`Issue`]s.
use crate::anomaly::ModbusAnomaly;
use crate::function::{exception_name, Function};
use nom::number::complete::{be_u16, be_u8};
use nom::IResult;
use otsentry_core::{detail, Detail};

/// What is wrong with a PDU that still framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issue {
    /// What is wrong (its name is Suricata's event name).
    pub event: ModbusAnomaly,
    /// Offset within the PDU (0 = the function code).
    pub offset: usize,
    /// Why, put into words only when read.
    pub reason: Detail,
}

fn issue(event: ModbusAnomaly, offset: usize, reason: Detail) -> Issue {
    Issue { event, offset, reason }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// 1–4: address and quantity.
    Read { function: Function, address: u16, quantity: u16 },
    /// 5, 6: address and value.
    WriteSingle { function: Function, address: u16, value: u16 },
    /// 15, 16: address, quantity, byte count and packed values.
    WriteMultiple { function: Function, address: u16, quantity: u16, values: &'a [u8] },
    /// 22: address, AND mask, OR mask.
    MaskWrite { address: u16, and_mask: u16, or_mask: u16 },
    /// 23: read range, write range, values.
    ReadWrite { read_address: u16, read_quantity: u16, write_address: u16, write_quantity: u16, values: &'a [u8] },
    /// 24: FIFO pointer address.
    ReadFifo { address: u16 },
    /// 8: sub-function and data.
    Diagnostic { sub: u16, data: &'a [u8] },
    /// 43: MEI type; for 14, read device id code and object id.
    Mei { mei_type: u8, read_device_id: Option<(u8, u8)>, data: &'a [u8] },
    /// 90: session byte, UMAS function, payload.
    Umas { session: u8, code: u8, data: &'a [u8] },
    /// 7, 11, 12, 17: the function code alone.
    Plain { function: Function },
    /// 20, 21: file record sub-requests (walk them with [`file_records`]).
    FileRecords { function: Function, data: &'a [u8] },
    /// User-defined and reserved codes, and public codes whose length does not fit: the
    /// raw bytes after the code.
    Other { function: Function, data: &'a [u8] },
}

/// One file record sub-request: reference type (6), file, record and length in
/// registers; for writes, the record data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRecord<'a> {
    pub reference_type: u8,
    pub file: u16,
    pub record: u16,
    pub length: u16,
    pub data: &'a [u8],
}

/// Walk the sub-requests of a 20/21 request body (after the byte count); `with_data` for
/// writes, whose sub-requests carry `length` registers each. Stops where one does not fit.
pub fn file_records(data: &[u8], with_data: bool) -> impl Iterator<Item = FileRecord<'_>> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (h, after) = rest.split_first_chunk::<7>()?;
        let [reference_type, f0, f1, r0, r1, l0, l1] = *h;
        let length = u16::from_be_bytes([l0, l1]);
        let n = if with_data { usize::from(length) * 2 } else { 0 };
        let (record_data, next) = after.split_at_checked(n)?;
        rest = next;
        Some(FileRecord {
            reference_type,
            file: u16::from_be_bytes([f0, f1]),
            record: u16::from_be_bytes([r0, r1]),
            length,
            data: record_data,
        })
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// `function | 0x80` and an exception code.
    Exception {
        function: Function,
        code: u8,
    },
    /// 1–4, 23: byte count and data.
    Read {
        function: Function,
        data: &'a [u8],
    },
    /// 5, 6: the request echoed.
    WriteSingle {
        function: Function,
        address: u16,
        value: u16,
    },
    /// 15, 16: address and quantity echoed.
    WriteMultiple {
        function: Function,
        address: u16,
        quantity: u16,
    },
    MaskWrite {
        address: u16,
        and_mask: u16,
        or_mask: u16,
    },
    /// 24: FIFO count and registers.
    ReadFifo {
        count: u16,
        data: &'a [u8],
    },
    Diagnostic {
        sub: u16,
        data: &'a [u8],
    },
    /// 43 / 14: read device identification.
    DeviceId(DeviceId<'a>),
    Mei {
        mei_type: u8,
        data: &'a [u8],
    },
    /// 90: session byte, status (0xFE ok, 0xFD error), payload.
    Umas {
        session: u8,
        status: u8,
        data: &'a [u8],
    },
    /// 7: the eight exception status outputs.
    ExceptionStatus {
        status: u8,
    },
    /// 11: status word and event count.
    CommEventCounter {
        status: u16,
        event_count: u16,
    },
    /// 12: status, event and message counts, and the event bytes.
    CommEventLog {
        status: u16,
        event_count: u16,
        message_count: u16,
        events: &'a [u8],
    },
    /// 17: server id, run indicator and device-specific data (after the byte count).
    ServerId {
        data: &'a [u8],
    },
    /// 20, 21: file record sub-responses (after the byte count).
    FileRecords {
        function: Function,
        data: &'a [u8],
    },
    Other {
        function: Function,
        data: &'a [u8],
    },
}

/// A read-device-identification response: header and a lazily walked object list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceId<'a> {
    pub code: u8,
    pub conformity: u8,
    pub more_follows: bool,
    pub next_object: u8,
    pub count: u8,
    objects: &'a [u8],
}

impl<'a> DeviceId<'a> {
    /// `(object id, value)` pairs; stops at the first object that does not fit.
    pub fn objects(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut rest = self.objects;
        let mut left = self.count;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let (&id, after) = rest.split_first()?;
            let (&len, after) = after.split_first()?;
            let value = after.get(..usize::from(len))?;
            rest = after.get(usize::from(len)..)?;
            left -= 1;
            Some((id, value))
        })
    }
}

/// Nothing left: the parser took every byte.
const NONE: &[u8] = &[];

/// The first `n` bytes (or all, if fewer) and the rest.
fn split(i: &[u8], n: usize) -> (&[u8], &[u8]) {
    i.split_at_checked(n).unwrap_or((i, NONE))
}

fn u16_pair(i: &[u8]) -> IResult<&[u8], (u16, u16)> {
    let (i, a) = be_u16(i)?;
    let (i, b) = be_u16(i)?;
    Ok((i, (a, b)))
}

/// The exact PDU length (function code included) a request of `function` must have,
/// where fixed.
fn fixed_request_len(function: Function) -> Option<usize> {
    Some(match function.0 {
        1..=6 => 5,
        7 | 11 | 12 | 17 => 1,
        22 => 7,
        24 => 3,
        _ => return None,
    })
}

/// Parse a request PDU (`pdu[0]` is the function code).
pub fn parse_request(pdu: &[u8]) -> (Request<'_>, Vec<Issue>) {
    let mut issues = Vec::new();
    let Some((&code, body)) = pdu.split_first() else {
        issues.push(issue(ModbusAnomaly::InvalidLength, 0, detail!("empty PDU")));
        return (Request::Other { function: Function(0), data: &[] }, issues);
    };
    let function = Function(code);
    if let Some(len) = fixed_request_len(function).filter(|&len| len != pdu.len()) {
        issues.push(issue(
            ModbusAnomaly::InvalidLength,
            0,
            detail!("{} request is {} bytes, the specification says {}", function.name(), pdu.len(), len),
        ));
        return (Request::Other { function, data: body }, issues);
    }
    let parsed: IResult<&[u8], Request<'_>> = match code {
        1..=4 => u16_pair(body).map(|(i, (address, quantity))| {
            let max = if code <= 2 { 2000 } else { 125 };
            if !(1..=max).contains(&quantity) {
                issues.push(issue(ModbusAnomaly::InvalidValue, 3, detail!("quantity {} outside 1..={}", quantity, max)));
            }
            (i, Request::Read { function, address, quantity })
        }),
        5 | 6 => u16_pair(body).map(|(i, (address, value))| {
            if code == 5 && value != 0x0000 && value != 0xFF00 {
                issues.push(issue(ModbusAnomaly::InvalidValue, 3, detail!("coil value 0x{:04X} is neither 0x0000 nor 0xFF00", value)));
            }
            (i, Request::WriteSingle { function, address, value })
        }),
        15 | 16 => write_multiple(function, body, &mut issues),
        22 => {
            let r = u16_pair(body).and_then(|(i, (address, and_mask))| be_u16(i).map(|(i, or_mask)| (i, (address, and_mask, or_mask))));
            r.map(|(i, (address, and_mask, or_mask))| (i, Request::MaskWrite { address, and_mask, or_mask }))
        }
        23 => read_write(body, &mut issues),
        24 => be_u16(body).map(|(i, address)| (i, Request::ReadFifo { address })),
        8 => be_u16(body).map(|(i, sub)| (NONE, Request::Diagnostic { sub, data: i })),
        43 => be_u8(body).map(|(i, mei_type)| {
            let read_device_id = match (mei_type, i) {
                (14, [code, object]) => Some((*code, *object)),
                _ => None,
            };
            if mei_type == 14 && read_device_id.is_none() {
                issues.push(issue(
                    ModbusAnomaly::InvalidLength,
                    2,
                    detail!("read device identification request has {} bytes after the MEI type, not 2", i.len()),
                ));
            }
            (NONE, Request::Mei { mei_type, read_device_id, data: i })
        }),
        90 => umas(body).map(|(i, (session, code))| (NONE, Request::Umas { session, code, data: i })),
        7 | 11 | 12 | 17 => Ok((body, Request::Plain { function })),
        20 | 21 => byte_counted(body, 1, &mut issues).map(|(rest, data)| {
            let with_data = code == 21;
            let walked: usize = file_records(data, with_data).map(|r| 7 + r.data.len()).sum();
            if walked != data.len() {
                issues.push(issue(
                    ModbusAnomaly::InvalidLength,
                    2 + walked,
                    detail!("{} bytes of file record sub-requests do not parse", data.len() - walked),
                ));
            }
            (rest, Request::FileRecords { function, data })
        }),
        _ => Ok((NONE, Request::Other { function, data: body })),
    };
    match parsed {
        Ok((rest, req)) => {
            if !rest.is_empty() {
                issues.push(issue(
                    ModbusAnomaly::InvalidLength,
                    pdu.len() - rest.len(),
                    detail!("{} bytes after the {} request", rest.len(), function.name()),
                ));
            }
            (req, issues)
        }
        Err(_) => {
            issues.push(issue(ModbusAnomaly::InvalidLength, 0, detail!("{} request of {} bytes is too short", function.name(), pdu.len())));
            (Request::Other { function, data: body }, issues)
        }
    }
}

/// A byte count (at PDU offset `at`) and the bytes it counts; a count that disagrees with
/// the bytes present is `invalid_length`, and the bytes present are used.
fn byte_counted<'a>(body: &'a [u8], at: usize, issues: &mut Vec<Issue>) -> IResult<&'a [u8], &'a [u8]> {
    let (i, byte_count) = be_u8(body)?;
    if usize::from(byte_count) != i.len() {
        issues.push(issue(ModbusAnomaly::InvalidLength, at, detail!("byte count {} but {} bytes follow", byte_count, i.len())));
    }
    let (data, rest) = split(i, usize::from(byte_count));
    Ok((rest, data))
}

fn umas(i: &[u8]) -> IResult<&[u8], (u8, u8)> {
    let (i, session) = be_u8(i)?;
    let (i, code) = be_u8(i)?;
    Ok((i, (session, code)))
}

fn write_multiple<'a>(function: Function, body: &'a [u8], issues: &mut Vec<Issue>) -> IResult<&'a [u8], Request<'a>> {
    let (i, (address, quantity)) = u16_pair(body)?;
    let (i, byte_count) = be_u8(i)?;
    let coils = function.0 == 15;
    let (max, expected) = if coils { (1968, quantity.div_ceil(8)) } else { (123, quantity.saturating_mul(2)) };
    if !(1..=max).contains(&quantity) {
        issues.push(issue(ModbusAnomaly::InvalidValue, 3, detail!("quantity {} outside 1..={}", quantity, max)));
    }
    if u16::from(byte_count) != expected {
        issues.push(issue(
            ModbusAnomaly::InvalidValue,
            5,
            detail!("byte count {} does not fit quantity {} (expected {})", byte_count, quantity, expected),
        ));
    }
    if usize::from(byte_count) != i.len() {
        issues.push(issue(ModbusAnomaly::InvalidLength, 5, detail!("byte count {} but {} value bytes follow", byte_count, i.len())));
    }
    let (values, rest) = split(i, usize::from(byte_count));
    Ok((rest, Request::WriteMultiple { function, address, quantity, values }))
}

fn read_write<'a>(body: &'a [u8], issues: &mut Vec<Issue>) -> IResult<&'a [u8], Request<'a>> {
    let (i, (read_address, read_quantity)) = u16_pair(body)?;
    let (i, (write_address, write_quantity)) = u16_pair(i)?;
    let (i, byte_count) = be_u8(i)?;
    if !(1..=125).contains(&read_quantity) {
        issues.push(issue(ModbusAnomaly::InvalidValue, 3, detail!("read quantity {} outside 1..=125", read_quantity)));
    }
    if !(1..=121).contains(&write_quantity) {
        issues.push(issue(ModbusAnomaly::InvalidValue, 7, detail!("write quantity {} outside 1..=121", write_quantity)));
    }
    if u16::from(byte_count) != write_quantity.saturating_mul(2) {
        issues.push(issue(
            ModbusAnomaly::InvalidValue,
            9,
            detail!("byte count {} does not fit write quantity {}", byte_count, write_quantity),
        ));
    }
    if usize::from(byte_count) != i.len() {
        issues.push(issue(ModbusAnomaly::InvalidLength, 9, detail!("byte count {} but {} value bytes follow", byte_count, i.len())));
    }
    let (values, rest) = split(i, usize::from(byte_count));
    Ok((rest, Request::ReadWrite { read_address, read_quantity, write_address, write_quantity, values }))
}

/// Parse a response PDU (`pdu[0]` is the function code, exception bit included).
pub fn parse_response(pdu: &[u8]) -> (Response<'_>, Vec<Issue>) {
    let mut issues = Vec::new();
    let Some((&raw, body)) = pdu.split_first() else {
        issues.push(issue(ModbusAnomaly::InvalidLength, 0, detail!("empty PDU")));
        return (Response::Other { function: Function(0), data: &[] }, issues);
    };
    let function = Function(raw & 0x7F);
    if raw & 0x80 != 0 {
        let code = body.first().copied().unwrap_or(0);
        if body.len() != 1 {
            issues.push(issue(ModbusAnomaly::InvalidLength, 1, detail!("exception response carries {} bytes, not 1", body.len())));
        }
        if exception_name(code).is_none() {
            issues.push(issue(ModbusAnomaly::InvalidExceptionCode, 1, detail!("exception code {} is not defined", code)));
        }
        return (Response::Exception { function, code }, issues);
    }
    let parsed: IResult<&[u8], Response<'_>> = match raw {
        1..=4 | 23 => be_u8(body).map(|(i, byte_count)| {
            if usize::from(byte_count) != i.len() {
                issues.push(issue(ModbusAnomaly::InvalidLength, 1, detail!("byte count {} but {} data bytes follow", byte_count, i.len())));
            }
            let (data, rest) = split(i, usize::from(byte_count));
            (rest, Response::Read { function, data })
        }),
        5 | 6 => u16_pair(body).map(|(i, (address, value))| (i, Response::WriteSingle { function, address, value })),
        15 | 16 => u16_pair(body).map(|(i, (address, quantity))| (i, Response::WriteMultiple { function, address, quantity })),
        22 => u16_pair(body)
            .and_then(|(i, (address, and_mask))| be_u16(i).map(|(i, or_mask)| (i, Response::MaskWrite { address, and_mask, or_mask }))),
        24 => u16_pair(body).map(|(i, (_byte_count, count))| (NONE, Response::ReadFifo { count, data: i })),
        8 => be_u16(body).map(|(i, sub)| (NONE, Response::Diagnostic { sub, data: i })),
        43 => device_id(body, &mut issues),
        90 => umas(body).map(|(i, (session, status))| (NONE, Response::Umas { session, status, data: i })),
        7 => be_u8(body).map(|(i, status)| (i, Response::ExceptionStatus { status })),
        11 => u16_pair(body).map(|(i, (status, event_count))| (i, Response::CommEventCounter { status, event_count })),
        12 => byte_counted(body, 1, &mut issues).and_then(|(rest, data)| {
            let (events, (status, event_count)) = u16_pair(data)?;
            let (events, message_count) = be_u16(events)?;
            Ok((rest, Response::CommEventLog { status, event_count, message_count, events }))
        }),
        17 => byte_counted(body, 1, &mut issues).map(|(rest, data)| (rest, Response::ServerId { data })),
        20 | 21 => byte_counted(body, 1, &mut issues).map(|(rest, data)| (rest, Response::FileRecords { function, data })),
        _ => Ok((NONE, Response::Other { function, data: body })),
    };
    match parsed {
        Ok((rest, resp)) => {
            if !rest.is_empty() {
                issues.push(issue(
                    ModbusAnomaly::InvalidLength,
                    pdu.len() - rest.len(),
                    detail!("{} bytes after the {} response", rest.len(), function.name()),
                ));
            }
            (resp, issues)
        }
        Err(_) => {
            issues.push(issue(
                ModbusAnomaly::InvalidLength,
                0,
                detail!("{} response of {} bytes is too short", function.name(), pdu.len()),
            ));
            (Response::Other { function, data: body }, issues)
        }
    }
}

fn device_id<'a>(body: &'a [u8], issues: &mut Vec<Issue>) -> IResult<&'a [u8], Response<'a>> {
    let (i, mei_type) = be_u8(body)?;
    if mei_type != 14 {
        return Ok((NONE, Response::Mei { mei_type, data: i }));
    }
    let (i, code) = be_u8(i)?;
    let (i, conformity) = be_u8(i)?;
    let (i, more) = be_u8(i)?;
    let (i, next_object) = be_u8(i)?;
    let (i, count) = be_u8(i)?;
    let d = DeviceId { code, conformity, more_follows: more == 0xFF, next_object, count, objects: i };
    if more != 0 && more != 0xFF {
        issues.push(issue(ModbusAnomaly::InvalidValue, 4, detail!("more-follows byte 0x{:02X} is neither 0x00 nor 0xFF", more)));
    }
    let walked = d.objects().count();
    if walked != usize::from(count) {
        issues.push(issue(ModbusAnomaly::InvalidLength, 7, detail!("{} objects announced, {} fit", count, walked)));
    }
    Ok((NONE, Response::DeviceId(d)))
}
