//! RELP frames for the CEF output: rsyslog's reliable event logging
//! protocol, where each message is a numbered frame the receiver answers (`rsp`), so a
//! sender knows what arrived. A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
//! Reading is incremental: a partial frame is "need more", never an error.

/// Data bytes a frame may carry; a length beyond it is refused (a broken peer must not
/// make us hold unbounded bytes).
pub const MAX_DATA: usize = 128 * 1024;

/// The longest transaction number (9 digits) and command (32 letters) RELP allows.
const MAX_TXNR_DIGITS: usize = 9;
const MAX_COMMAND: usize = 32;

/// One frame as written.
pub fn frame(txnr: u32, command: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("{txnr} {command} {}", data.len()).into_bytes();
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
    out
}

/// The offers a client opens a session with: protocol version 0 and the `syslog`
/// command.
pub fn open_offers(software: &str) -> Vec<u8> {
    format!("relp_version=0\nrelp_software={software}\ncommands=syslog").into_bytes()
}

/// A frame read from a peer, borrowing its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub txnr: u32,
    pub command: &'a str,
    pub data: &'a [u8],
}

/// Why bytes are not a RELP frame, and where they went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelpError {
    #[error("relp: bad transaction number at byte {0}")]
    Txnr(usize),
    #[error("relp: bad command at byte {0}")]
    Command(usize),
    #[error("relp: bad data length at byte {0}")]
    Length(usize),
    #[error("relp: data of {0} bytes is over the {MAX_DATA}-byte cap")]
    TooLong(usize),
    #[error("relp: no line feed after the data at byte {0}")]
    Trailer(usize),
}

/// The first frame of `buf` and the bytes it took; `Ok(None)` when `buf` holds only the
/// start of one (read more and call again with everything).
pub fn parse(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, RelpError> {
    let Some((txnr, at)) = token(buf, 0, MAX_TXNR_DIGITS, |b| b.is_ascii_digit()).map_err(|_| RelpError::Txnr(0))? else {
        return Ok(None);
    };
    let txnr: u32 = std::str::from_utf8(txnr).ok().and_then(|t| t.parse().ok()).ok_or(RelpError::Txnr(0))?;
    let Some((command, at)) = token(buf, at, MAX_COMMAND, |b| b.is_ascii_alphabetic()).map_err(|_| RelpError::Command(at))? else {
        return Ok(None);
    };
    let command = std::str::from_utf8(command).map_err(|_| RelpError::Command(at))?;
    // The length ends at a space (data follows) or at the line feed (no data).
    let start = at;
    let mut end = start;
    loop {
        match buf.get(end) {
            None => return Ok(None),
            Some(b) if b.is_ascii_digit() && end - start < 9 => end += 1,
            Some(b' ' | b'\n') if end > start => break,
            Some(_) => return Err(RelpError::Length(end)),
        }
    }
    let len: usize =
        std::str::from_utf8(buf.get(start..end).unwrap_or_default()).ok().and_then(|t| t.parse().ok()).ok_or(RelpError::Length(start))?;
    if len > MAX_DATA {
        return Err(RelpError::TooLong(len));
    }
    let (data, trailer) = match (len, buf.get(end)) {
        (0, Some(b'\n')) => (&[][..], end),
        (0, _) => return Err(RelpError::Trailer(end)),
        (_, Some(b' ')) => {
            let from = end + 1;
            match buf.get(from..from + len) {
                Some(data) => (data, from + len),
                None => return Ok(None),
            }
        }
        _ => return Err(RelpError::Length(end)),
    };
    match buf.get(trailer) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((Frame { txnr, command, data }, trailer + 1))),
        Some(_) => Err(RelpError::Trailer(trailer)),
    }
}

/// A token of at most `max` bytes that pass `ok`, then a space: the token and where the
/// next begins; `Ok(None)` when `buf` ends first; `Err` for anything else.
fn token(buf: &[u8], from: usize, max: usize, ok: impl Fn(u8) -> bool) -> Result<Option<(&[u8], usize)>, ()> {
    let mut at = from;
    loop {
        match buf.get(at) {
            None => return Ok(None),
            Some(b' ') if at > from => return Ok(buf.get(from..at).map(|t| (t, at + 1))),
            Some(&b) if ok(b) && at - from < max => at += 1,
            Some(_) => return Err(()),
        }
    }
}

/// The status code of a `rsp` frame's data (`200 OK` gives 200).
pub fn response_code(data: &[u8]) -> Option<u16> {
    let digits = data.get(..3)?;
    if data.get(3).is_some_and(|&b| b != b' ' && b != b'\n') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = frame(1, "open", &open_offers("otsentry"));
        s.extend(frame(2, "syslog", b"<131>1 - - - - - - CEF:0|a\nb"));
        s.extend(frame(3, "close", b""));
        s
    }

    #[test]
    fn frames_read_back_whole_at_every_split_point() {
        let s = stream();
        for split in 0..=s.len() {
            let mut buf = s[..split].to_vec();
            let mut got = Vec::new();
            let mut rest = &s[split..];
            loop {
                match parse(&buf).unwrap() {
                    Some((f, used)) => {
                        got.push((f.txnr, f.command.to_string(), f.data.to_vec()));
                        buf.drain(..used);
                    }
                    None if rest.is_empty() => break,
                    None => {
                        buf.push(rest[0]);
                        rest = &rest[1..];
                    }
                }
            }
            assert!(buf.is_empty(), "split {split}: {buf:?} left");
            assert_eq!(got.len(), 3, "split {split}");
            assert_eq!(got[1], (2, "syslog".to_string(), b"<131>1 - - - - - - CEF:0|a\nb".to_vec()));
            assert_eq!(got[2], (3, "close".to_string(), Vec::new()));
        }
    }

    #[test]
    fn bad_frames_say_where() {
        assert_eq!(parse(b"x open 0\n"), Err(RelpError::Txnr(0)));
        assert_eq!(parse(b"1 op3n 0\n"), Err(RelpError::Command(2)));
        assert_eq!(parse(b"1 rsp 1x"), Err(RelpError::Length(7)));
        assert_eq!(parse(b"1 rsp 999999999 "), Err(RelpError::TooLong(999_999_999)));
        assert_eq!(parse(b"1 rsp 2 okX"), Err(RelpError::Trailer(10)));
        assert_eq!(parse(b"1234567890 rsp 0\n"), Err(RelpError::Txnr(0)));
        assert_eq!(parse(b"12 rs"), Ok(None));
    }

    #[test]
    fn responses_give_their_code() {
        assert_eq!(response_code(b"200 OK"), Some(200));
        assert_eq!(response_code(b"500 error\nmore"), Some(500));
        assert_eq!(response_code(b"20"), None);
        assert_eq!(response_code(b"2000"), None);
    }

    /// Found by the fuzz target: numbers with leading zeros are numbers (RELP's
    /// grammar is digits), read as their value; written again, without the zeros.
    #[test]
    fn leading_zeros_are_read_as_the_number() {
        let (f, used) = parse(b"00555 UK 01 k\n").unwrap().unwrap();
        assert_eq!((f.txnr, f.command, f.data, used), (555, "UK", &b"k"[..], 14));
        assert_eq!(frame(f.txnr, f.command, f.data), b"555 UK 1 k\n");
    }
}
