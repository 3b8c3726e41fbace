//! What the pipeline hands a sink: records already serialised as JSON lines, with where
//! each line ends and its record type, so a sink that routes by type (a table per type)
//! need not parse them.
use crate::types::EVE_TYPES;

/// A run of serialised records, each a JSON object and a newline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    bytes: Vec<u8>,
    /// The end offset in `bytes` of each line, and its type (an index into [`EVE_TYPES`]).
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
            (EVE_TYPES.get(usize::from(ty)).copied().unwrap_or("unknown"), line)
        })
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

    /// A batch of the given lines, for tests of sinks.
    pub fn from_lines<'l>(lines: impl IntoIterator<Item = (&'l str, &'l str)>) -> Batch {
        let mut b = Batch::default();
        for (ty, line) in lines {
            b.bytes.extend_from_slice(line.as_bytes());
            let ty = EVE_TYPES.iter().position(|t| *t == ty).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX);
            b.end_line(ty);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_with_their_types() {
        let mut b = Batch::from_lines([("flow", "{\"a\":1}"), ("alert", "{}")]);
        assert_eq!(b.bytes(), b"{\"a\":1}\n{}\n");
        let lines: Vec<_> = b.lines().collect();
        assert_eq!(lines, vec![("flow", &b"{\"a\":1}"[..]), ("alert", &b"{}"[..])]);
        b.buffer().extend_from_slice(b"{\"half");
        b.discard_line();
        assert_eq!((b.records(), b.len_bytes()), (2, 11));
        b.clear();
        assert!(b.is_empty() && b.bytes().is_empty());
    }
}
