//! The look of `human` diagnostics on stderr: colours, and Unicode or ASCII.
//!
//! Colours (`--color auto`, the default): on when stderr is a terminal, off when it is a
//! pipe or a file, off when `NO_COLOR` is set to anything non-empty, on when
//! `CLICOLOR_FORCE` is set to anything but `0` (even into a pipe). `--color always|never`
//! decides alone. ASCII (no box drawing; every non-ASCII character of the input escaped)
//! when the locale is not UTF-8: the first non-empty of `LC_ALL`, `LC_CTYPE` and `LANG`
//! names no UTF-8 codeset (`C`, `POSIX`, `en_US.ISO-8859-1`, or none set at all).

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use clap::ValueEnum;
use meshc::diagnostic::Style;

/// `--color`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ColorChoice {
    /// Colours on a terminal, unless NO_COLOR is set (or CLICOLOR_FORCE forces them)
    #[default]
    Auto,
    Always,
    Never,
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// Decides the style once, from `--color` and the environment.
pub(crate) fn init(choice: ColorChoice) {
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let _ = STYLE.set(decide(choice, &env, std::io::stderr().is_terminal()));
}

/// The style [`init`] decided (no colours, Unicode, before it).
pub(crate) fn style() -> Style {
    STYLE.get().copied().unwrap_or_default()
}

fn decide(choice: ColorChoice, env: &dyn Fn(&str) -> Option<String>, terminal: bool) -> Style {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR").is_some() => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        ColorChoice::Auto => terminal && env("TERM").is_none_or(|t| t != "dumb"),
    };
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|name| set(name));
    let utf8 = locale.is_some_and(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    });
    Style { color, ascii: !utf8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string())
    }

    #[test]
    fn colours_follow_the_flag_then_the_environment_then_the_terminal() {
        let utf8 = [("LANG", "en_US.UTF-8")];
        assert!(decide(ColorChoice::Auto, &with(&utf8), true).color);
        assert!(!decide(ColorChoice::Auto, &with(&utf8), false).color);
        let no_color = [("LANG", "en_US.UTF-8"), ("NO_COLOR", "1")];
        assert!(!decide(ColorChoice::Auto, &with(&no_color), true).color);
        assert!(decide(ColorChoice::Always, &with(&no_color), false).color);
        let empty = [("NO_COLOR", "")];
        assert!(decide(ColorChoice::Auto, &with(&empty), true).color);
        assert!(decide(ColorChoice::Auto, &with(&[("CLICOLOR_FORCE", "1")]), false).color);
        assert!(!decide(ColorChoice::Auto, &with(&[("CLICOLOR_FORCE", "0")]), false).color);
        assert!(!decide(ColorChoice::Never, &with(&[("CLICOLOR_FORCE", "1")]), true).color);
        assert!(!decide(ColorChoice::Auto, &with(&[("TERM", "dumb")]), true).color);
    }

    #[test]
    fn ascii_unless_the_locale_is_utf8() {
        let ascii = |vars: &[(&str, &str)]| decide(ColorChoice::Never, &with(vars), false).ascii;
        assert!(ascii(&[]));
        assert!(ascii(&[("LANG", "C")]));
        assert!(ascii(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "POSIX")]));
        assert!(!ascii(&[("LANG", "C"), ("LC_CTYPE", "de_DE.utf8")]));
        assert!(!ascii(&[("LC_ALL", ""), ("LANG", "C.UTF-8")]));
        assert!(ascii(&[("LANG", "en_US.ISO-8859-1")]));
    }
}
