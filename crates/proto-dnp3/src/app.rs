//! The application layer: control, function code, IIN, and the object headers walked with
//! a size table (variable-size objects carry their size; an object of unknown size ends
//! the walk with `unknown_object`, keeping the headers before it).
use crate::anomaly::Dnp3Anomaly;
use crate::points::{take, uint, Points, Problem, Value};
use otsentry_core::{detail, Detail};

/// Application control byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppControl(pub u8);

impl AppControl {
    pub fn fir(self) -> bool {
        self.0 & 0x80 != 0
    }
    pub fn fin(self) -> bool {
        self.0 & 0x40 != 0
    }
    pub fn con(self) -> bool {
        self.0 & 0x20 != 0
    }
    pub fn uns(self) -> bool {
        self.0 & 0x10 != 0
    }
    pub fn seq(self) -> u8 {
        self.0 & 0x0F
    }
}

pub fn function_name(code: u8) -> &'static str {
    match code {
        0x00 => "confirm",
        0x01 => "read",
        0x02 => "write",
        0x03 => "select",
        0x04 => "operate",
        0x05 => "direct_operate",
        0x06 => "direct_operate_nr",
        0x07 => "immediate_freeze",
        0x08 => "immediate_freeze_nr",
        0x09 => "freeze_clear",
        0x0A => "freeze_clear_nr",
        0x0B => "freeze_at_time",
        0x0C => "freeze_at_time_nr",
        0x0D => "cold_restart",
        0x0E => "warm_restart",
        0x0F => "initialize_data",
        0x10 => "initialize_application",
        0x11 => "start_application",
        0x12 => "stop_application",
        0x13 => "save_configuration",
        0x14 => "enable_unsolicited",
        0x15 => "disable_unsolicited",
        0x16 => "assign_class",
        0x17 => "delay_measure",
        0x18 => "record_current_time",
        0x19 => "open_file",
        0x1A => "close_file",
        0x1B => "delete_file",
        0x1C => "get_file_info",
        0x1D => "authenticate_file",
        0x1E => "abort_file",
        0x1F => "activate_config",
        0x20 => "authenticate_req",
        0x21 => "authenticate_err",
        0x81 => "response",
        0x82 => "unsolicited_response",
        0x83 => "authenticate_resp",
        _ => "reserved",
    }
}

pub fn is_response(code: u8) -> bool {
    matches!(code, 0x81..=0x83)
}

/// IIN bit names by bit: IIN1 is the first byte on the wire (bits 0–7), IIN2 the second
/// (bits 8–15).
pub const IIN_NAMES: [&str; 16] = [
    "all_stations",
    "class_1_events",
    "class_2_events",
    "class_3_events",
    "need_time",
    "local_control",
    "device_trouble",
    "device_restart",
    "no_func_code_support",
    "object_unknown",
    "parameter_error",
    "event_buffer_overflow",
    "already_executing",
    "config_corrupt",
    "reserved_2",
    "reserved_1",
];

/// Names of the set IIN bits (IIN1 then IIN2).
pub fn iin_names(iin: u16) -> Vec<&'static str> {
    iin_name_iter(iin).collect()
}

/// [`iin_names`] without a vector, for records.
pub fn iin_name_iter(iin: u16) -> impl Iterator<Item = &'static str> + Clone {
    IIN_NAMES.iter().enumerate().filter(move |(i, _)| iin & (1 << i) != 0).map(|(_, n)| *n)
}

/// One object header and what its range says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectHeader {
    pub group: u8,
    pub variation: u8,
    pub qualifier: u8,
    /// Start and stop indexes, for range qualifiers.
    pub range: Option<(u32, u32)>,
    /// Objects that follow (range size or count).
    pub count: u32,
    /// Where this header's objects lie in the fragment (empty when none follow).
    pub data: std::ops::Range<usize>,
    /// Points named by index prefix alone, without values (as in a READ).
    pub index_only: bool,
    /// Points the walk accepted (fewer than `count` when it stopped early).
    pub walked: u32,
}

impl ObjectHeader {
    pub fn prefix_code(&self) -> u8 {
        (self.qualifier >> 4) & 0x07
    }
    pub fn range_code(&self) -> u8 {
        self.qualifier & 0x0F
    }
    /// The points behind this header, decoded lazily from the fragment it came from.
    pub fn points<'a>(&self, fragment: &'a [u8]) -> Points<'a> {
        let data = fragment.get(self.data.clone()).unwrap_or_default();
        // Only the points the walk accepted: a capped or broken walk ends there.
        let count = if data.is_empty() { 0 } else { self.walked };
        let points = Points::new(self.group, self.variation, self.qualifier, self.range, count, data);
        if self.index_only {
            points.headers_only()
        } else {
            points
        }
    }
}

/// A control relay output block (g12v1) or pattern control block (g12v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crob {
    pub index: u32,
    pub control_code: u8,
    pub count: u8,
    pub on_time_ms: u32,
    pub off_time_ms: u32,
    pub status: u8,
}

impl Crob {
    pub fn operation(self) -> &'static str {
        match self.control_code & 0x0F {
            0 => "nul",
            1 => "pulse_on",
            2 => "pulse_off",
            3 => "latch_on",
            4 => "latch_off",
            _ => "undefined",
        }
    }
    pub fn trip_close(self) -> &'static str {
        match self.control_code >> 6 {
            0 => "nul",
            1 => "close",
            2 => "trip",
            _ => "reserved",
        }
    }
}

/// An analog output block (g41) value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnalogOutput {
    pub index: u32,
    pub value: f64,
    pub status: u8,
}

/// A parsed application fragment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub control: u8,
    pub function: u8,
    pub iin: Option<u16>,
    pub objects: Vec<ObjectHeader>,
    pub crobs: Vec<Crob>,
    pub analog_outputs: Vec<AnalogOutput>,
    /// Points walked across all objects.
    pub points: usize,
    /// Why the object walk stopped early (Suricata's event name and a reason).
    pub problem: Option<(Dnp3Anomaly, Detail)>,
}

/// Whether a request with this function carries object data (a READ names objects only).
fn request_has_data(function: u8) -> bool {
    matches!(function, 0x02..=0x06 | 0x0B | 0x0C | 0x19..=0x1F | 0x20 | 0x21)
}

/// Parse a reassembled application fragment.
pub fn parse_fragment(frag: &[u8], max_objects: usize, max_points: usize) -> Result<Fragment, &'static str> {
    let mut f = Fragment::default();
    parse_fragment_into(frag, max_objects, max_points, &mut f).map(|()| f)
}

/// [`parse_fragment`] into `f`, reusing its lists' memory (a dissector keeps one).
pub fn parse_fragment_into(frag: &[u8], max_objects: usize, max_points: usize, f: &mut Fragment) -> Result<(), &'static str> {
    let mut rest = frag;
    let &[control, function] = take(&mut rest, 2).ok_or("shorter than an application header")? else {
        return Err("shorter than an application header");
    };
    f.objects.clear();
    f.crobs.clear();
    f.analog_outputs.clear();
    (f.control, f.function, f.iin, f.points, f.problem) = (control, function, None, 0, None);
    if is_response(function) {
        let iin = take(&mut rest, 2).ok_or("response without IIN")?;
        f.iin = Some(uint(iin) as u16);
    }
    let with_data = is_response(function) || request_has_data(function);
    while !rest.is_empty() {
        if f.objects.len() >= max_objects {
            f.problem = Some((Dnp3Anomaly::TooManyObjects, detail!("more than {} object headers", max_objects)));
            break;
        }
        let Some(&[group, variation, qualifier]) = take(&mut rest, 3) else {
            f.problem = Some((Dnp3Anomaly::Malformed, "object header truncated".into()));
            break;
        };
        let range_code = qualifier & 0x0F;
        let (range, count) = match range_code {
            0..=5 => {
                let w = match range_code % 3 {
                    0 => 1,
                    1 => 2,
                    _ => 4,
                };
                let (Some(a), Some(b)) = (take(&mut rest, w), take(&mut rest, w)) else {
                    f.problem = Some((Dnp3Anomaly::Malformed, "range truncated".into()));
                    break;
                };
                let (start, stop) = (uint(a), uint(b));
                if stop < start {
                    f.problem = Some((Dnp3Anomaly::Malformed, detail!("range stop {} below start {}", stop, start)));
                    break;
                }
                (Some((start, stop)), (stop - start).saturating_add(1))
            }
            6 => (None, 0),
            7..=9 | 0x0B => {
                let w = match range_code {
                    7 | 0x0B => 1,
                    8 => 2,
                    _ => 4,
                };
                let Some(c) = take(&mut rest, w) else {
                    f.problem = Some((Dnp3Anomaly::Malformed, "count truncated".into()));
                    break;
                };
                (None, uint(c))
            }
            _ => {
                f.problem = Some((Dnp3Anomaly::Malformed, detail!("reserved range code {}", range_code)));
                break;
            }
        };
        let at = frag.len() - rest.len();
        let mut header = ObjectHeader { group, variation, qualifier, range, count, data: at..at, index_only: !with_data, walked: 0 };
        let prefixed = qualifier & 0x70 != 0;
        if (!with_data && !prefixed) || count == 0 {
            f.objects.push(header);
            continue;
        }
        // A request naming objects (a READ) carries their index prefixes only, but a
        // size-prefixed object (a file block to read) in full.
        let points = Points::new(group, variation, qualifier, range, count, rest);
        let mut points = if header.index_only { points.headers_only() } else { points };
        let before = f.points;
        let problem = walk(f, &mut points, max_points);
        header.walked = (f.points - before).min(max_points.saturating_sub(before)) as u32;
        rest = points.rest();
        header.data.end = frag.len() - rest.len();
        f.objects.push(header);
        if let Some(p) = problem {
            f.problem = Some(p);
            break;
        }
    }
    Ok(())
}

/// Walk one header's points: count them, keep control outputs, stop at the first problem.
fn walk(f: &mut Fragment, points: &mut Points<'_>, max_points: usize) -> Option<Problem> {
    // Objects with nothing to keep per point and a fixed size are stepped over at once.
    let room = max_points.saturating_sub(f.points);
    if !matches!(points.group(), 12 | 41) {
        match points.skip_fixed(u32::try_from(room + 1).unwrap_or(u32::MAX)) {
            Some(Ok(n)) => {
                f.points += n as usize;
                if f.points > max_points {
                    return Some((Dnp3Anomaly::TooManyPoints, detail!("more than {} points in one fragment", max_points)));
                }
                return None;
            }
            Some(Err(problem)) => return Some(problem),
            None => {}
        }
    }
    for point in points {
        let p = match point {
            Ok(p) => p,
            Err(problem) => return Some(problem),
        };
        f.points += 1;
        if f.points > max_points {
            return Some((Dnp3Anomaly::TooManyPoints, detail!("more than {} points in one fragment", max_points)));
        }
        let b = p.bytes;
        match (p.group, p.variation, b) {
            (12, 1 | 2, &[control_code, count, a0, a1, a2, a3, b0, b1, b2, b3, status, ..]) => f.crobs.push(Crob {
                index: p.index,
                control_code,
                count,
                on_time_ms: u32::from_le_bytes([a0, a1, a2, a3]),
                off_time_ms: u32::from_le_bytes([b0, b1, b2, b3]),
                status,
            }),
            (41, 1..=4, _) => {
                let mut value = 0.0;
                p.fields(&mut |name, v| match (name, v) {
                    ("value", Value::I(i)) => value = i as f64,
                    ("value", Value::F(x)) => value = x,
                    _ => {}
                });
                f.analog_outputs.push(AnalogOutput { index: p.index, value, status: b.last().copied().unwrap_or(0) });
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_poll_and_its_response() {
        let read = [
            0xC3, // FIR FIN, seq 3
            0x01, // read
            0x3C, 0x02, 0x06, // g60v2 class 1, all
            0x3C, 0x01, 0x06, // g60v1 class 0, all
        ];
        let f = parse_fragment(&read, 100, 100).unwrap();
        assert_eq!((f.function, f.objects.len(), f.problem), (1, 2, None));
        let resp = [
            0xC3, // FIR FIN seq 3
            0x81, // response
            0x90, 0x00, // IIN1: device restart (0x80) and need time (0x10); IIN2: none
            0x1E, 0x02, 0x00, 0x00, 0x01, // g30v2, start 0 stop 1
            0x01, 0x2C, 0x01, // point 0: flags, 300
            0x01, 0x00, 0x00, // point 1: flags, 0
        ];
        let f = parse_fragment(&resp, 100, 100).unwrap();
        assert_eq!(f.iin, Some(0x0090));
        assert_eq!(iin_names(0x0090), vec!["need_time", "device_restart"]);
        assert_eq!(f.objects[0].range, Some((0, 1)));
        assert_eq!(f.problem, None);
    }

    #[test]
    fn a_crob_is_decoded_and_an_unknown_object_stops_the_walk() {
        let op = [
            0xC1, 0x05, // direct operate
            0x0C, 0x01, 0x28, // g12v1, qualifier 0x28: 2-byte index prefix, 2-byte count
            0x01, 0x00, // count 1
            0x05, 0x00, // index 5
            0x41, // control code: close (0x40) + pulse on (0x01)
            0x01, // count
            0xE8, 0x03, 0x00, 0x00, // on time 1000 ms
            0x00, 0x00, 0x00, 0x00, // off time
            0x00, // status
            0xC8, 0x01, 0x07, 0x01, 0xAA, // g200v1: unknown size
        ];
        let f = parse_fragment(&op, 100, 100).unwrap();
        let c = f.crobs[0];
        assert_eq!((c.index, c.operation(), c.trip_close(), c.on_time_ms), (5, "pulse_on", "close", 1000));
        assert_eq!(f.objects.len(), 2);
        assert_eq!(f.problem.map(|p| p.0), Some(Dnp3Anomaly::UnknownObject));
    }
}
