//! Positions as the protocol counts them: a 0-based line and a character offset in the
//! encoding both sides agreed on (UTF-16 code units unless the client offers UTF-8).

use crate::source::LineIndex;

/// How characters on a line are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// A 0-based line and character offset on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Encoding {
    /// The position of a byte offset (clamped to the text, and back to a character
    /// boundary).
    pub fn position(self, text: &str, offset: usize) -> Position {
        self.position_in(text, &LineIndex::new(text), offset)
    }

    /// [`Encoding::position`] with the text's line index built once, for many offsets.
    pub fn position_in(self, text: &str, lines: &LineIndex, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = lines.line(offset);
        let line_start = lines.start(line, text).min(offset);
        let character = match self {
            Encoding::Utf8 => offset - line_start,
            Encoding::Utf16 => lines.width(text, line_start, offset).utf16,
        };
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
        }
    }

    /// The byte offset of a position. A line past the end is the end of the text; a
    /// character past the end of its line is the line's end; one inside a character is
    /// that character's start.
    pub fn offset(self, text: &str, position: Position) -> usize {
        let mut start = 0;
        for _ in 0..position.line {
            match text[start..].find('\n') {
                Some(i) => start += i + 1,
                None => return text.len(),
            }
        }
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[start..end];
        let wanted = position.character as usize;
        let mut counted = 0;
        for (i, c) in line.char_indices() {
            let width = match self {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if counted + width > wanted {
                return start + i;
            }
            counted += width;
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::{Encoding, Position};

    #[test]
    fn non_ascii_text_before_a_name() {
        let text = "# café 𝄞\nservice hello\n";
        let at = text.find("hello").unwrap();
        // Line 1 is ASCII; the comment's line counts differently.
        assert_eq!(Encoding::Utf16.position(text, at), Position { line: 1, character: 8 });
        let end_of_comment = text.find('\n').unwrap();
        assert_eq!(Encoding::Utf16.position(text, end_of_comment).character, 9);
        assert_eq!(Encoding::Utf8.position(text, end_of_comment).character, 12);
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
                assert_eq!(encoding.offset(text, encoding.position(text, offset)), offset);
            }
        }
        // Inside the surrogate pair: the character's start.
        assert_eq!(
            Encoding::Utf16.offset(text, Position { line: 0, character: 8 }),
            text.find('𝄞').unwrap()
        );
        assert_eq!(
            Encoding::Utf8.offset(text, Position { line: 9, character: 0 }),
            text.len()
        );
        assert_eq!(
            Encoding::Utf8.offset(text, Position { line: 0, character: 99 }),
            end_of_comment
        );
    }
}
