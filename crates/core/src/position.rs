//! Where a byte offset falls in a text file, as a person's editor counts it, and the
//! nearest valid name to a misspelt one.

/// The 1-based line and column (in characters) of byte `offset` in `text`.
///
/// Only `\n` ends a line: parsers that also break lines at a lone `\r` (YAML does)
/// would otherwise name a line that `sed -n Np` and `grep -n` do not show.
/// An offset past the end names the position just after the last character.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
pub fn nearest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    let n = name.chars().count();
    // Within a third of the name (at least two edits), and never all of it.
    let limit = (n / 3).max(2).min(n.saturating_sub(1));
    candidates.into_iter().map(|c| (distance(name, c), c)).filter(|&(d, _)| d <= limit).min_by_key(|&(d, _)| d).map(|(_, c)| c.to_string())
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let cost = usize::from(ca != *cb);
            let v = (prev + cost).min(above + 1).min(left + 1);
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = v;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::line_and_column;

    #[test]
    fn lines_end_at_newlines_only() {
        let text = "ab\ncd\r ef\r\ngé h\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 3), (2, 1));
        // After a lone CR the line goes on.
        assert_eq!(line_and_column(text, 7), (2, 5));
        // Columns count characters: 'é' is two bytes.
        assert_eq!(line_and_column(text, text.find('h').unwrap()), (3, 4));
        // Inside a character, and past the end.
        assert_eq!(line_and_column(text, text.find('é').unwrap() + 1), (3, 2));
        assert_eq!(line_and_column(text, 999), (4, 1));
        assert_eq!(line_and_column("", 5), (1, 1));
    }
}
