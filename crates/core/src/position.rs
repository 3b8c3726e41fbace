//! Where a byte offset falls in a text file, as a person's editor counts it.

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
