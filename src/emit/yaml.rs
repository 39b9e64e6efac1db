//! YAML text: the only place that calls the YAML library.
//!
//! Objects are written by a serde [`Serializer`] of meshc's own, straight from the typed
//! objects into one text buffer, in block style: no intermediate tree, no value type. Writing
//! is meshc's own rather than `serde_yaml::to_string` because serde_yaml (0.9) follows YAML
//! 1.2 and writes `on`, `yes`, `y`, `2021-01-01` or `12:30` unquoted, which YAML 1.1 readers
//! (Kubernetes' sigs.k8s.io/yaml, kustomize's older paths, PyYAML) turn into booleans,
//! timestamps or numbers. Here a string is written plain only when it cannot be read as
//! anything else under YAML 1.1 or 1.2 (see [`plain_is_safe`]); every other string is
//! double-quoted. serde_yaml reads YAML back ([`parse_documents`]).
//!
//! The layout: `key: scalar`; a non-empty mapping or sequence under a key starts on the next
//! line, two spaces deeper; sequence items are `- ` at their parent key's depth plus two, and
//! a mapping inside an item starts on the dash's line; empty collections are `{}` and `[]`.
//! Since a collection's emptiness is known only at its end, its opening (the line break after
//! `key:` or `- `) is written when its first element arrives.

use std::fmt::{self, Write as _};

use serde::ser;
use serde::Serialize;
/// A YAML value as read back (tests and the KRM function's ResourceList).
pub use serde_yaml::Value;

/// Serialises one object as one YAML document (without the `---` separator). The text is
/// written into a buffer kept for the thread and copied out at its exact size: a mesh makes
/// tens of thousands of documents of a few hundred bytes, and a growing `String` each would
/// hold twice their size on average.
pub(crate) fn document<T: Serialize + ?Sized>(object: &T) -> Result<String, String> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            document_into(&mut buffer, object)?;
            Ok(buffer.as_str().to_owned())
        }
        // Only if a `Serialize` implementation wrote a document itself.
        Err(_) => {
            let mut out = String::new();
            document_into(&mut out, object)?;
            Ok(out)
        }
    })
}

/// Appends one object as one YAML document (without the `---` separator) to `out`. On an
/// error `out` is left as it was.
pub(crate) fn document_into<T: Serialize + ?Sized>(out: &mut String, object: &T) -> Result<(), String> {
    let start = out.len();
    let written = object.serialize(Writer {
        out: &mut *out,
        at: Position::Document,
    });
    written.map_err(|e| {
        out.truncate(start);
        e.0
    })
}

/// Reads one YAML document.
pub fn parse_one(text: &str) -> Result<Value, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Reads YAML text back into values (tests and tooling compare output through it).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).map_err(|e| e.to_string()))
        .filter(|v| !matches!(v, Ok(Value::Null)))
        .collect()
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..n) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', n)),
    }
}

/// Why a value could not be written.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unsupported(what: &str) -> Error {
    Error(format!("{what} cannot be written as YAML here"))
}

/// Where the cursor stands when a value starts.
#[derive(Clone, Copy)]
enum Position {
    /// At the start of a document.
    Document,
    /// Right after `key:` of a key at this depth.
    AfterKey(usize),
    /// Right after `- ` of an item at this depth.
    AfterDash(usize),
}

/// Writes one value at a position.
struct Writer<'a> {
    out: &'a mut String,
    at: Position,
}

impl<'a> Writer<'a> {
    /// A scalar (or an empty collection) on the current line, then the line break.
    fn scalar(self, write: impl FnOnce(&mut String)) -> Result<(), Error> {
        if let Position::AfterKey(_) = self.at {
            self.out.push(' ');
        }
        write(self.out);
        self.out.push('\n');
        Ok(())
    }

    fn collection(self, mapping: bool) -> Collection<'a> {
        Collection {
            out: self.out,
            at: self.at,
            mapping,
            depth: None,
            value_at: None,
        }
    }
}

/// A mapping or a sequence being written; `depth` is set once its first element is.
struct Collection<'a> {
    out: &'a mut String,
    at: Position,
    mapping: bool,
    depth: Option<usize>,
    /// A map's key is written, its value is next.
    value_at: Option<Position>,
}

impl Collection<'_> {
    /// Puts the cursor where the next key (mapping) or dash (sequence) goes and returns the
    /// collection's depth; the first element also writes the collection's opening.
    fn next(&mut self) -> usize {
        if let Some(depth) = self.depth {
            indent(self.out, depth);
            return depth;
        }
        let depth = match (self.mapping, self.at) {
            (_, Position::Document) => 0,
            // A mapping in an item starts on the dash's line.
            (true, Position::AfterDash(d)) => d + 2,
            (true, Position::AfterKey(d)) => {
                self.out.push('\n');
                indent(self.out, d + 2);
                d + 2
            }
            (false, Position::AfterKey(d) | Position::AfterDash(d)) => {
                self.out.push('\n');
                indent(self.out, d + 2);
                d + 2
            }
        };
        self.depth = Some(depth);
        depth
    }

    fn key(&mut self, key: &str) -> Position {
        let depth = self.next();
        write_string(self.out, key);
        self.out.push(':');
        Position::AfterKey(depth)
    }

    /// A struct field's key: like [`Collection::key`], with the test of the name remembered.
    fn field(&mut self, key: &'static str) -> Position {
        if !plain_field(key) {
            return self.key(key);
        }
        let depth = self.next();
        self.out.push_str(key);
        self.out.push(':');
        Position::AfterKey(depth)
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let depth = self.next();
        self.out.push_str("- ");
        value.serialize(Writer {
            out: &mut *self.out,
            at: Position::AfterDash(depth),
        })
    }

    fn end(self) -> Result<(), Error> {
        if self.depth.is_none() {
            let empty = if self.mapping { "{}" } else { "[]" };
            Writer {
                out: self.out,
                at: self.at,
            }
            .scalar(|out| out.push_str(empty))?;
        }
        Ok(())
    }
}

/// Narrow numbers are written as their wide kind.
macro_rules! widen {
    ($($method:ident: $type:ty => $wide:ident),*) => {$(
        fn $method(self, v: $type) -> Result<(), Error> {
            self.$wide(v.into())
        }
    )*};
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'a>;
    type SerializeTuple = Collection<'a>;
    type SerializeTupleStruct = Collection<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Collection<'a>;
    type SerializeStruct = Collection<'a>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(|out| out.push_str(if v { "true" } else { "false" }))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(|out| {
            let _ = write!(out, "{v}");
        })
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(|out| {
            let _ = write!(out, "{v}");
        })
    }
    widen!(
        serialize_i8: i8 => serialize_i64,
        serialize_i16: i16 => serialize_i64,
        serialize_i32: i32 => serialize_i64,
        serialize_u8: u8 => serialize_u64,
        serialize_u16: u16 => serialize_u64,
        serialize_u32: u32 => serialize_u64,
        serialize_f32: f32 => serialize_f64
    );
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(|out| write_float(out, v))
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.scalar(|out| write_string(out, v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(|out| out.push_str("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.collection(true).end()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut map = self.collection(true);
        let at = map.key(variant);
        value.serialize(Writer { out: &mut *map.out, at })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.collection(false))
    }
    fn serialize_tuple(self, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(false))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(false))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("a tuple variant"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.collection(true))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(true))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("a struct variant"))
    }
}

/// Sequences, tuples and tuple structs are all written as YAML sequences.
macro_rules! sequence_impl {
    ($($trait:ident :: $element:ident),*) => {$(
        impl ser::$trait for Collection<'_> {
            type Ok = ();
            type Error = Error;
            fn $element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }
            fn end(self) -> Result<(), Error> {
                Collection::end(self)
            }
        }
    )*};
}

sequence_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let depth = self.next();
        key.serialize(KeyWriter(&mut *self.out))?;
        self.out.push(':');
        self.value_at = Some(Position::AfterKey(depth));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let at = self
            .value_at
            .take()
            .ok_or_else(|| Error("a map value without a key".to_string()))?;
        value.serialize(Writer {
            out: &mut *self.out,
            at,
        })
    }
    fn end(self) -> Result<(), Error> {
        Collection::end(self)
    }
}

impl ser::SerializeStruct for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let at = self.field(key);
        value.serialize(Writer {
            out: &mut *self.out,
            at,
        })
    }
    fn end(self) -> Result<(), Error> {
        Collection::end(self)
    }
}

/// Writes a mapping's key: a scalar, on the current line.
struct KeyWriter<'a>(&'a mut String);

/// Keys that are written as they display: booleans and whole numbers.
macro_rules! display_keys {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(self, v: $type) -> Result<(), Error> {
            self.display(v)
        }
    )*};
}

impl KeyWriter<'_> {
    fn display(self, v: impl fmt::Display) -> Result<(), Error> {
        let _ = write!(self.0, "{v}");
        Ok(())
    }
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    display_keys!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64
    );
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_float(self.0, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_string(self.0, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(unsupported("bytes"))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.0.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(unsupported("a mapping key that is a struct"))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(unsupported("a mapping key that is an enum with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(unsupported("a mapping key that is a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(unsupported("a mapping key that is a sequence"))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(unsupported("a mapping key that is a sequence"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("a mapping key that is a sequence"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(unsupported("a mapping key that is a mapping"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(unsupported("a mapping key that is a mapping"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("a mapping key that is a mapping"))
    }
}

/// A float as YAML writes it: the shortest text that reads back the same, with `.0` on
/// whole numbers so that it stays a float.
fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str(".nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// The bytes a plain scalar may hold: ASCII letters and digits, `-`, `_`, `.` and `/` (a table:
/// every scalar of the output goes through this test).
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let c = byte as u8;
        table[byte] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/');
        byte += 1;
    }
    table
};

/// Words that some YAML reader takes for a boolean or null when unquoted.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `s` may be written unquoted and still be read back as the same string by YAML
/// 1.1 and 1.2 readers alike: it starts with a letter or `/`, holds only letters, digits,
/// `-`, `_`, `.` and `/`, and is none of the reserved words in any letter case. Numbers,
/// dates, times, octals (`0777`), `~`, `*`, `{{ x }}`, spaces and line breaks therefore
/// always end up quoted.
pub(crate) fn plain_is_safe(s: &str) -> bool {
    // Bytes rather than chars: every byte of a non-ASCII character fails the same test.
    let Some(&first) = s.as_bytes().first() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'/')
        && s.bytes().all(|c| PLAIN[usize::from(c)])
        && (s.len() > 5 || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)))
}

/// The ASCII bytes a double-quoted scalar holds as they are: printable ASCII except `"` and
/// `\` (a table, like [`PLAIN`]). Bytes of non-ASCII characters are not in it: those
/// characters take the slow path, which looks at each.
const QUOTED_AS_IS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0x20;
    while byte < 0x7f {
        table[byte] = byte != b'"' as usize && byte != b'\\' as usize;
        byte += 1;
    }
    table
};

/// [`plain_is_safe`] of a struct field's name, remembered by the name's address and length:
/// every object writes the same few dozen names, tens of thousands of times in a large mesh. A
/// `&'static str` never changes, so one address and length always hold the same name; two
/// names that share a slot only test again.
fn plain_field(key: &'static str) -> bool {
    use std::cell::Cell;
    const SLOTS: usize = 64;
    thread_local! {
        static SEEN: [Cell<(usize, usize, bool)>; SLOTS] = const { [const { Cell::new((0, 0, false)) }; SLOTS] };
    }
    let address = key.as_ptr() as usize;
    // Fibonacci hashing of the address (string literals are not aligned).
    let slot = (address.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - 6)) % SLOTS;
    SEEN.with(|seen| {
        let cell = &seen[slot];
        let (seen_address, seen_len, plain) = cell.get();
        if seen_address == address && seen_len == key.len() {
            return plain;
        }
        let plain = plain_is_safe(key);
        cell.set((address, key.len(), plain));
        plain
    })
}

fn write_string(out: &mut String, s: &str) {
    if plain_is_safe(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    // The common case, a quoted string of printable ASCII without `"` or `\`, is copied
    // whole; the rest is escaped from the first byte that needs a look.
    let bytes = s.as_bytes();
    let clean = bytes.iter().position(|&b| !QUOTED_AS_IS[usize::from(b)]);
    let Some(clean) = clean else {
        out.push_str(s);
        out.push('"');
        return;
    };
    out.push_str(&s[..clean]);
    // Runs of characters that need no escape are copied whole.
    let mut run = clean;
    for (i, c) in s[clean..].char_indices().map(|(i, c)| (i + clean, c)) {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            // Control characters, and the characters YAML readers treat as line breaks or
            // byte-order marks, are escaped so they survive any reader.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", c as u32);
        } else {
            out.push_str(escape);
        }
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> String {
        let mut text = String::from("v: ");
        write_string(&mut text, s);
        let values = parse_documents(&text).unwrap_or_default();
        values
            .first()
            .and_then(|v| v.get("v"))
            .and_then(Value::as_str)
            .unwrap_or("<not a string>")
            .to_string()
    }

    #[test]
    fn hostile_strings_are_quoted_and_survive() {
        let hostile = [
            "on",
            "On",
            "ON",
            "off",
            "yes",
            "Yes",
            "no",
            "NO",
            "y",
            "Y",
            "n",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "2021-01-01",
            "12:30",
            "0777",
            "0x1F",
            "1e3",
            "1_000",
            ".inf",
            "-.inf",
            ".NaN",
            "*",
            "&a",
            "!tag",
            "{{ x }}",
            "[a]",
            "a: b",
            "a #b",
            " leading",
            "trailing ",
            "two\nlines",
            "tab\there",
            "",
            "-",
            "- x",
            "?",
            "%",
            "@x",
            "`x`",
            "\"q\"",
            "'q'",
            "back\\slash",
            "nel\u{85}",
            "ls\u{2028}",
            "bom\u{feff}",
            "bell\u{7}",
            "=",
            "<<",
            "3",
            "-3",
            "+3",
            "3.0",
            "0o17",
            "0b101",
            "é",
        ];
        for s in hostile {
            assert_eq!(round_trip(s), s, "value {s:?} did not survive");
            if !s.is_empty() && s != "é" {
                assert!(
                    !plain_is_safe(s) || s.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{s:?}"
                );
            }
        }
        for s in [
            "on",
            "yes",
            "y",
            "no",
            "2021-01-01",
            "12:30",
            "0777",
            "1e3",
            "null",
            "~",
            "*",
            "{{ x }}",
            " a",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn escapes_between_plain_runs() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\nd\u{7}é\u{2028}\tz\r");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0007é\\u2028\\tz\\r\"");
    }

    #[test]
    fn quoted_strings_copy_clean_text_and_escape_the_rest() {
        let written = |s: &str| {
            let mut out = String::new();
            write_string(&mut out, s);
            out
        };
        // Clean printable ASCII is copied whole.
        assert_eq!(written("128Mi"), "\"128Mi\"");
        assert_eq!(written("a b: c"), "\"a b: c\"");
        // A clean start, then what needs an escape, then more clean text.
        assert_eq!(written("1 \"x\" \\ y"), "\"1 \\\"x\\\" \\\\ y\"");
        assert_eq!(written("0\tz\u{7f}"), "\"0\\tz\\u007F\"");
        // Non-ASCII text is kept; the characters readers take for breaks are escaped.
        assert_eq!(written("1 h\u{e9}llo\u{2028}"), "\"1 h\u{e9}llo\\u2028\"");
    }

    #[test]
    fn field_names_are_tested_once_and_quoted_when_they_must_be() {
        #[derive(Serialize)]
        struct Fields {
            #[serde(rename = "on")]
            on: u8,
            #[serde(rename = "apiVersion")]
            api_version: u8,
        }
        let value = Fields { on: 1, api_version: 2 };
        let mut first = String::new();
        document_into(&mut first, &value).unwrap_or_default();
        let mut again = String::new();
        document_into(&mut again, &value).unwrap_or_default();
        assert_eq!(first, "\"on\": 1\napiVersion: 2\n");
        assert_eq!(again, first);
    }

    #[test]
    fn ordinary_names_stay_plain() {
        for s in [
            "hello2",
            "app.kubernetes.io/name",
            "/hello",
            "istio-injection",
            "v1",
            "HTTP",
            "networking.istio.io/v1",
        ] {
            assert!(plain_is_safe(s), "{s:?}");
        }
    }

    #[test]
    fn block_layout() {
        #[derive(Serialize)]
        struct Doc {
            name: &'static str,
            list: Vec<std::collections::BTreeMap<&'static str, u32>>,
            empty: Vec<u32>,
        }
        let doc = Doc {
            name: "x",
            list: vec![[("a", 1), ("b", 2)].into_iter().collect()],
            empty: vec![],
        };
        assert_eq!(
            document(&doc).unwrap_or_default(),
            "name: x\nlist:\n  - a: 1\n    b: 2\nempty: []\n"
        );
    }

    #[test]
    fn nested_and_empty_collections() {
        #[derive(Serialize)]
        enum Kind {
            Plain,
            Wrapped(u8),
        }
        #[derive(Serialize)]
        struct Doc {
            lists: Vec<Vec<u8>>,
            maps: Vec<std::collections::BTreeMap<u16, &'static str>>,
            nothing: Option<u8>,
            kinds: Vec<Kind>,
            nested: std::collections::BTreeMap<&'static str, std::collections::BTreeMap<&'static str, f64>>,
        }
        let doc = Doc {
            lists: vec![vec![1, 2], vec![]],
            maps: vec![[(7, "on")].into_iter().collect(), Default::default()],
            nothing: None,
            kinds: vec![Kind::Plain, Kind::Wrapped(3)],
            nested: [("a", [("b", 2.0)].into_iter().collect()), ("c", Default::default())]
                .into_iter()
                .collect(),
        };
        let mut out = String::from("---\n");
        assert_eq!(document_into(&mut out, &doc), Ok(()));
        assert_eq!(
            out,
            "---\nlists:\n  - \n    - 1\n    - 2\n  - []\nmaps:\n  - 7: \"on\"\n  - {}\nnothing: null\n\
             kinds:\n  - Plain\n  - Wrapped: 3\nnested:\n  a:\n    b: 2.0\n  c: {}\n"
        );
        assert_eq!(document(&Vec::<u8>::new()).as_deref(), Ok("[]\n"));
        assert_eq!(document(&"yes").as_deref(), Ok("\"yes\"\n"));
    }

    #[test]
    fn an_error_leaves_the_buffer_as_it_was() {
        #[derive(Serialize)]
        enum Bad {
            Pair(u8, u8),
        }
        let mut out = String::from("kept\n");
        assert!(document_into(&mut out, &vec![Bad::Pair(1, 2)]).is_err());
        assert_eq!(out, "kept\n");
    }
}
