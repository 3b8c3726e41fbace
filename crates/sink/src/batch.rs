//! What the pipeline hands a sink: records already serialised as JSON lines, with where
//! each line ends and its record type, so a sink that routes by type (a table per type)
//! need not parse them.
use crate::types::{record_types, TypeSet};

/// A run of serialised records, each a JSON object and a newline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    bytes: Vec<u8>,
    /// The end offset in `bytes` of each line, and its type (an index into the installed [`record_types`]).
    ends: Vec<(u32, u8)>,
}

impl Batch {
    pub fn with_capacity(bytes: usize) -> Batch {
        Batch { bytes: Vec::with_capacity(bytes), ends: Vec::with_capacity(bytes / 256) }
    }

    /// Every line, newlines included: what a file or a stream gets.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn records(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes the batch holds without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Each line (without its newline) with its record type.
    pub fn lines(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&(end, ty)| {
            let end = end as usize;
            let line = self.bytes.get(start..end.saturating_sub(1)).unwrap_or_default();
            start = end;
            (record_types().get(usize::from(ty)).copied().unwrap_or("unknown"), line)
        })
    }

    /// The types of the batch's records.
    pub fn types(&self) -> TypeSet {
        self.ends.iter().fold(TypeSet::NONE, |set, &(_, ty)| set.with(ty))
    }

    /// A copy holding only the records of `types`, in order.
    pub(crate) fn only(&self, types: TypeSet) -> Batch {
        let mut out = Batch::default();
        let mut start = 0usize;
        for &(end, ty) in &self.ends {
            if types.holds(ty) {
                out.bytes.extend_from_slice(self.bytes.get(start..end as usize).unwrap_or_default());
                out.ends.push((u32::try_from(out.bytes.len()).unwrap_or(u32::MAX), ty));
            }
            start = end as usize;
        }
        out
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// The buffer a record is serialised into; [`Batch::end_line`] or
    /// [`Batch::discard_line`] closes it.
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Closes the record serialised since the previous line (appending its newline).
    pub(crate) fn end_line(&mut self, ty: u8) {
        self.bytes.push(b'\n');
        // A batch is handed over long before 4 GiB; past it, lines would alias.
        self.ends.push((u32::try_from(self.bytes.len()).unwrap_or(u32::MAX), ty));
    }

    /// Drops a record that failed half-way through serialisation.
    pub(crate) fn discard_line(&mut self) {
        let start = self.ends.last().map_or(0, |&(end, _)| end as usize);
        self.bytes.truncate(start);
    }

    /// Appends `other`'s lines after this batch's.
    pub(crate) fn append(&mut self, other: &Batch) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|&(end, ty)| (u32::try_from(base + end as usize).unwrap_or(u32::MAX), ty)));
    }

    /// The batch as a spool keeps it: its line count, each line's end and type, then
    /// the lines.
    pub(crate) fn to_spooled(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.ends.len() * 5 + self.bytes.len());
        out.extend_from_slice(&(self.ends.len() as u32).to_le_bytes());
        for &(end, ty) in &self.ends {
            out.extend_from_slice(&end.to_le_bytes());
            out.push(ty);
        }
        out.extend_from_slice(&self.bytes);
        out
    }

    /// A batch [`Batch::to_spooled`] wrote, or none if `bytes` is not one.
    pub(crate) fn from_spooled(bytes: &[u8]) -> Option<Batch> {
        let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let table = bytes.get(4..4 + n.checked_mul(5)?)?;
        let body = bytes.get(4 + n * 5..)?.to_vec();
        let ends: Vec<(u32, u8)> = table.chunks_exact(5).map(|c| (u32::from_le_bytes([c[0], c[1], c[2], c[3]]), c[4])).collect();
        // Every end within the lines, in order, the last one at their end.
        let ordered = ends.windows(2).all(|w| w[0].0 <= w[1].0);
        (ordered && ends.last().map_or(body.is_empty(), |l| l.0 as usize == body.len())).then_some(Batch { bytes: body, ends })
    }

    /// A batch of the given lines, for tests of sinks.
    pub fn from_lines<'l>(lines: impl IntoIterator<Item = (&'l str, &'l str)>) -> Batch {
        let mut b = Batch::default();
        for (ty, line) in lines {
            b.bytes.extend_from_slice(line.as_bytes());
            let ty = crate::types::type_index(ty).unwrap_or(u8::MAX);
            b.end_line(ty);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() {
        crate::install_test_types();
    }

    #[test]
    fn lines_come_back_with_their_types() {
        types();
        let mut b = Batch::from_lines([("flow", "{\"a\":1}"), ("alert", "{}")]);
        assert_eq!(b.bytes(), b"{\"a\":1}\n{}\n");
        let lines: Vec<_> = b.lines().collect();
        assert_eq!(lines, vec![("flow", &b"{\"a\":1}"[..]), ("alert", &b"{}"[..])]);
        b.buffer().extend_from_slice(b"{\"half");
        b.discard_line();
        assert_eq!((b.records(), b.len_bytes()), (2, 11));
        b.clear();
        assert!(b.is_empty() && b.bytes().is_empty());
        let mut joined = Batch::from_lines([("flow", "{\"a\":1}")]);
        joined.append(&Batch::from_lines([("alert", "{}"), ("dnp3", "{\"b\":2}")]));
        let lines: Vec<_> = joined.lines().collect();
        assert_eq!(lines, vec![("flow", &b"{\"a\":1}"[..]), ("alert", &b"{}"[..]), ("dnp3", &b"{\"b\":2}"[..])]);
    }

    #[test]
    fn a_batch_narrowed_to_some_types_keeps_their_lines_in_order() {
        types();
        let b = Batch::from_lines([("alert", "{\"a\":1}"), ("flow", "{}"), ("modbus", "{\"m\":1}"), ("alert", "{\"a\":2}")]);
        assert_eq!(b.types(), TypeSet::of(&["alert", "flow", "modbus"]));
        let alerts = b.only(TypeSet::of(&["alert"]));
        assert_eq!(alerts.bytes(), b"{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(alerts.lines().map(|l| l.0).collect::<Vec<_>>(), ["alert", "alert"]);
        assert_eq!(b.only(TypeSet::ALL), b);
        assert!(b.only(TypeSet::of(&["dnp3"])).is_empty());
    }

    #[test]
    fn a_spooled_batch_reads_back_whole_and_garbage_does_not() {
        types();
        let b = Batch::from_lines([("alert", "{\"a\":1}"), ("flow", "{}"), ("modbus", "{\"x\":\"y\"}")]);
        let bytes = b.to_spooled();
        assert_eq!(Batch::from_spooled(&bytes), Some(b.clone()));
        assert_eq!(Batch::from_spooled(&Batch::default().to_spooled()), Some(Batch::default()));
        for cut in 0..bytes.len() {
            assert_eq!(Batch::from_spooled(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Batch::from_spooled(&[0xFF; 16]), None);
    }
}
