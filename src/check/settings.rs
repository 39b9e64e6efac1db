//! Reading `key value...` settings: policies, route options, listener options and external
//! service settings share one reader, so every one of them reports unknown words and
//! wrongly typed values the same way.

use std::collections::BTreeMap;

use super::{rules, suggest, Checker};
use crate::ast::{Name, Setting, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// What a sub-key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueKind {
    /// A whole number, 0 or more.
    Whole,
    /// A percentage from 0% to 100%, fractions allowed.
    Percent,
    /// A duration of at least 1ms, in whole milliseconds.
    Duration,
    /// A quoted string.
    Str,
    /// Nothing: the word alone switches something on.
    Flag,
}

impl ValueKind {
    fn describe(self) -> &'static str {
        match self {
            ValueKind::Whole => "a whole number such as `5`",
            ValueKind::Percent => "a percentage such as `10%`",
            ValueKind::Duration => "a duration such as `5s` or `250ms`",
            ValueKind::Str => "a string in double quotes",
            ValueKind::Flag => "nothing",
        }
    }
}

/// A value read as its kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Whole(u32),
    Percent(f64),
    Duration(String),
    Str(String),
    Flag,
}

impl Arg {
    pub(super) fn whole(&self) -> Option<u32> {
        match self {
            Arg::Whole(n) => Some(*n),
            _ => None,
        }
    }

    pub(super) fn percent(&self) -> Option<f64> {
        match self {
            Arg::Percent(p) => Some(*p),
            _ => None,
        }
    }

    pub(super) fn text(&self) -> Option<String> {
        match self {
            Arg::Duration(s) | Arg::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

pub(super) type Args = BTreeMap<String, Arg>;

impl Checker<'_> {
    /// Reads one value as `kind`, reporting a value of another kind.
    pub(super) fn arg(&mut self, value: &Value, kind: ValueKind, what: &str) -> Option<Arg> {
        let wrong = |this: &mut Self| {
            this.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    value.span(),
                    format!("{what} takes {}", kind.describe()),
                )
                .label("not the right kind of value")
                .help(format!("write {} here", kind.describe())),
            );
            None
        };
        match (kind, value) {
            (ValueKind::Whole, Value::Number(n)) if !n.percent && !n.negative && !n.is_fraction() => {
                match n.whole().and_then(|w| u32::try_from(w).ok()) {
                    Some(w) if w <= rules::MAX_COUNT => Some(Arg::Whole(w)),
                    None if n.too_large() => None,
                    Some(_) => {
                        self.error(
                            Diagnostic::error(
                                Code::InvalidValue,
                                n.span,
                                format!("{what} must be at most {}", rules::MAX_COUNT),
                            )
                            .label("Istio rejects this number")
                            .help("Istio stores counts as 32-bit signed numbers"),
                        );
                        None
                    }
                    None => wrong(self),
                }
            }
            (ValueKind::Percent, Value::Number(n)) if n.percent => {
                let parsed: Option<f64> = n.text.parse().ok();
                match parsed {
                    Some(p) if !n.negative && p <= 100.0 => Some(Arg::Percent(p)),
                    _ => {
                        self.error(
                            Diagnostic::error(Code::InvalidValue, n.span, format!("{what} must be from 0% to 100%"))
                                .label("out of range")
                                .help("write a percentage from 0% to 100%, such as `10%` or `0.5%`"),
                        );
                        None
                    }
                }
            }
            (ValueKind::Duration, Value::Duration(d)) => match d.millis() {
                Some(ms) if ms >= 1.0 && ms.fract() == 0.0 && ms <= rules::MAX_DURATION_MS => {
                    Some(Arg::Duration(d.text.clone()))
                }
                Some(ms) if ms > rules::MAX_DURATION_MS => {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            d.span,
                            format!("{what} must be at most {}", rules::MAX_DURATION),
                        )
                        .label("Istio rejects this duration")
                        .help(format!(
                            "Istio reads durations as 64-bit nanoseconds: write at most `{}`",
                            rules::MAX_DURATION
                        )),
                    );
                    None
                }
                _ => {
                    self.error(
                        Diagnostic::error(
                            Code::InvalidValue,
                            d.span,
                            format!("{what} must be at least 1ms, in whole milliseconds"),
                        )
                        .label("Istio rejects this duration")
                        .help("write a duration such as `250ms`, `5s` or `1m`"),
                    );
                    None
                }
            },
            (ValueKind::Str, Value::Str(s)) => s.vars.is_empty().then(|| Arg::Str(s.value.clone())),
            _ => wrong(self),
        }
    }

    /// Reads `sub-key value sub-key value ...` against a schema. Reports unknown and
    /// repeated sub-keys and values of the wrong kind; `None` when anything was wrong.
    pub(super) fn pairs(&mut self, setting: &Setting, values: &[Value], schema: &[(&str, ValueKind)]) -> Option<Args> {
        let mut out = Args::new();
        let mut ok = true;
        let mut i = 0;
        let key = setting.key.text.as_str();
        while i < values.len() {
            let value = &values[i];
            i += 1;
            let Value::Word(word) = value else {
                let words: Vec<String> = schema.iter().map(|(w, _)| format!("`{w}`")).collect();
                self.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        value.span(),
                        format!("`{key}` expected a setting name here"),
                    )
                    .label("a value without a name")
                    .help(format!("`{key}` takes {}", words.join(", "))),
                );
                ok = false;
                continue;
            };
            let Some((_, kind)) = schema.iter().find(|(w, _)| *w == word.text) else {
                self.unknown_word(word, key, schema);
                ok = false;
                // Its value, if it has one, needs no second report.
                if values.get(i).is_some_and(|v| !matches!(v, Value::Word(_))) {
                    i += 1;
                }
                continue;
            };
            let arg = if *kind == ValueKind::Flag {
                Some(Arg::Flag)
            } else {
                match values.get(i) {
                    Some(v) => {
                        i += 1;
                        self.arg(v, *kind, &format!("`{}`", word.text))
                    }
                    None => {
                        self.error(
                            Diagnostic::error(Code::InvalidValue, word.span, format!("`{}` needs a value", word.text))
                                .label("no value")
                                .help(format!("write `{} ` followed by {}", word.text, kind.describe())),
                        );
                        None
                    }
                }
            };
            match arg {
                Some(arg) => {
                    if out.insert(word.text.clone(), arg).is_some() {
                        self.error(
                            Diagnostic::error(Code::Duplicate, word.span, format!("`{}` is given twice", word.text))
                                .label("again here")
                                .help("give each setting once"),
                        );
                        ok = false;
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn unknown_word(&mut self, word: &Name, context: &str, schema: &[(&str, ValueKind)]) {
        let words: Vec<&str> = schema.iter().map(|(w, _)| *w).collect();
        let mut d = Diagnostic::error(
            Code::UnknownKeyword,
            word.span,
            format!("`{}` is not a setting of `{context}`", word.text),
        )
        .label("unknown here");
        if let Some(suggestion) = suggest::did_you_mean(&word.text, &words, &format!("settings of `{context}`")) {
            d = suggestion.on(d, word.span);
        }
        self.error(d);
    }

    /// Reports a setting given twice in one block.
    pub(super) fn once<'s>(&mut self, seen: &mut BTreeMap<String, &'s Setting>, setting: &'s Setting) -> bool {
        if let Some(first) = seen.insert(setting.key.text.clone(), setting) {
            self.set_twice(setting, first.key.span, "merge the two into one line");
            return false;
        }
        true
    }

    /// Reports a setting written a second time, first written at `first`.
    pub(super) fn set_twice(&mut self, setting: &Setting, first: crate::source::Span, help: &str) {
        self.error(
            Diagnostic::error(
                Code::Duplicate,
                setting.key.span,
                format!("`{}` is set twice", setting.key.text),
            )
            .label("set again here")
            .note(first, "first set here")
            .help(help.to_string()),
        );
    }

    /// The single value of `key value`, read as `kind`.
    pub(super) fn single(&mut self, setting: &Setting, kind: ValueKind) -> Option<Arg> {
        let key = setting.key.text.as_str();
        match setting.values.as_slice() {
            [value] => self.arg(value, kind, &format!("`{key}`")),
            [] => {
                self.error(
                    Diagnostic::error(Code::InvalidValue, setting.key.span, format!("`{key}` needs a value"))
                        .label("no value")
                        .help(format!("write `{key}` followed by {}", kind.describe())),
                );
                None
            }
            [_, extra, ..] => {
                self.error(
                    Diagnostic::error(Code::InvalidValue, extra.span(), format!("`{key}` takes one value"))
                        .label("one too many")
                        .help(format!("write `{key}` followed by {}", kind.describe())),
                );
                None
            }
        }
    }
}
