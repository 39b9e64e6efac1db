//! The keywords that may start a line in each block, read from the grammar itself
//! (`grammar/mesh.pest`, the text pest compiles): for a block rule such as
//! `service_decl = { "service" ~ name ~ "{" ~ (version_decl | route_decl | ...)* ~ "}" }`, the
//! words the expression after its `"{"` can begin with (its FIRST set, in parser terms).
//! A change to the grammar changes completion with it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const GRAMMAR: &str = include_str!("../../grammar/mesh.pest");

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Ident(String),
    Symbol(char),
}

/// The rules of the grammar: each name with the tokens of its body.
fn rules(text: &str) -> BTreeMap<String, Vec<Token>> {
    let mut rules = BTreeMap::new();
    let tokens = tokenize(text);
    let mut i = 0;
    while i < tokens.len() {
        // `name = modifier? { body }`
        if let (Token::Ident(name), Some(Token::Symbol('='))) = (&tokens[i], tokens.get(i + 1)) {
            let mut j = i + 2;
            while matches!(tokens.get(j), Some(Token::Symbol('@' | '$' | '!')))
                || tokens.get(j) == Some(&Token::Ident("_".to_string()))
            {
                j += 1;
            }
            if tokens.get(j) == Some(&Token::Symbol('{')) {
                let mut depth = 0;
                let start = j + 1;
                let mut end = start;
                for (k, token) in tokens.iter().enumerate().skip(j) {
                    match token {
                        Token::Symbol('{') => depth += 1,
                        Token::Symbol('}') => {
                            depth -= 1;
                            if depth == 0 {
                                end = k;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rules.insert(name.clone(), tokens[start..end].to_vec());
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    rules
}

/// Literals, identifiers and operators; comments and character ranges (`'a'..'z'`, which
/// start no keyword) are dropped.
fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => literal.extend(chars.next()),
                        '"' => break,
                        c => literal.push(c),
                    }
                }
                out.push(Token::Literal(literal));
            }
            '\'' => {
                // `'a'..'z'`: skip both quoted characters and the dots.
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
                while chars.peek() == Some(&'.') {
                    chars.next();
                }
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                }
                out.push(Token::Ident("RANGE".to_string()));
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut ident = String::from(c);
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_') {
                    ident.push(c);
                    chars.next();
                }
                out.push(Token::Ident(ident));
            }
            c if c.is_whitespace() => {}
            c => out.push(Token::Symbol(c)),
        }
    }
    out
}

/// The first words of expressions, computed over the rules.
struct First<'g> {
    rules: &'g BTreeMap<String, Vec<Token>>,
    visiting: BTreeSet<String>,
}

impl First<'_> {
    /// FIRST of `expression = sequence ("|" sequence)*` starting at `tokens[*at]`, and
    /// whether it can match nothing; `*at` ends past it.
    fn choice(&mut self, tokens: &[Token], at: &mut usize, out: &mut BTreeSet<String>) -> bool {
        let mut nullable = self.sequence(tokens, at, out);
        while tokens.get(*at) == Some(&Token::Symbol('|')) {
            *at += 1;
            nullable |= self.sequence(tokens, at, out);
        }
        nullable
    }

    fn sequence(&mut self, tokens: &[Token], at: &mut usize, out: &mut BTreeSet<String>) -> bool {
        let mut nullable = true;
        loop {
            let mut found = BTreeSet::new();
            let term_nullable = self.term(tokens, at, &mut found);
            if nullable {
                out.extend(found);
            }
            nullable &= term_nullable;
            if tokens.get(*at) == Some(&Token::Symbol('~')) {
                *at += 1;
            } else {
                return nullable;
            }
        }
    }

    /// `!x`, `&x`, `x*`, `x?`, `x+`, `(…)`, a literal or a rule.
    fn term(&mut self, tokens: &[Token], at: &mut usize, out: &mut BTreeSet<String>) -> bool {
        let lookahead = matches!(tokens.get(*at), Some(Token::Symbol('!' | '&')));
        if lookahead {
            *at += 1;
        }
        let mut found = BTreeSet::new();
        let mut nullable = match tokens.get(*at) {
            Some(Token::Symbol('(')) => {
                *at += 1;
                let nullable = self.choice(tokens, at, &mut found);
                if tokens.get(*at) == Some(&Token::Symbol(')')) {
                    *at += 1;
                }
                nullable
            }
            Some(Token::Literal(literal)) => {
                *at += 1;
                found.insert(literal.clone());
                literal.is_empty()
            }
            Some(Token::Ident(name)) => {
                *at += 1;
                self.rule(name, &mut found)
            }
            _ => true,
        };
        while let Some(Token::Symbol(c @ ('*' | '?' | '+'))) = tokens.get(*at) {
            nullable |= *c != '+';
            *at += 1;
        }
        if lookahead {
            // Matches nothing: it starts no word.
            return true;
        }
        out.extend(found);
        nullable
    }

    fn rule(&mut self, name: &str, out: &mut BTreeSet<String>) -> bool {
        let Some(tokens) = self.rules.get(name) else {
            // Built-ins: SOI and EOI match nothing; ANY, ranges and the like start no word.
            return matches!(name, "SOI" | "EOI");
        };
        if !self.visiting.insert(name.to_string()) {
            return false;
        }
        let nullable = self.choice(tokens, &mut 0, out);
        self.visiting.remove(name);
        nullable
    }
}

/// The words that may start a statement inside the block of `rule` (after its `"{"`), or
/// at the top of the file for `file`.
pub(crate) fn block_keywords(rule: &str) -> Vec<String> {
    static RULES: OnceLock<BTreeMap<String, Vec<Token>>> = OnceLock::new();
    keywords_in(RULES.get_or_init(|| rules(GRAMMAR)), rule)
}

fn keywords_in(rules: &BTreeMap<String, Vec<Token>>, rule: &str) -> Vec<String> {
    let Some(tokens) = rules.get(rule) else {
        return Vec::new();
    };
    let start = if rule == "file" {
        0
    } else {
        match tokens.iter().position(|t| *t == Token::Literal("{".to_string())) {
            // The term after `"{" ~`.
            Some(i) => i + 2,
            None => return Vec::new(),
        }
    };
    let mut first = First {
        rules,
        visiting: BTreeSet::new(),
    };
    let mut found = BTreeSet::new();
    let mut at = start;
    if rule == "file" {
        first.sequence(tokens, &mut at, &mut found);
    } else {
        first.term(tokens, &mut at, &mut found);
    }
    found
        .into_iter()
        // Words only: not punctuation, nor an escape such as the byte-order mark's `\u{FEFF}`.
        .filter(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{block_keywords, keywords_in, rules};

    #[test]
    fn keywords_follow_the_grammar() {
        assert_eq!(block_keywords("file"), ["import", "namespace"]);
        let service = block_keywords("service_decl");
        for word in ["pod", "vm", "route", "port", "calls", "policy", "resources", "allow"] {
            assert!(service.contains(&word.to_string()), "{word} in {service:?}");
        }
        assert!(!service.contains(&"image".to_string()), "{service:?}");
        let version = block_keywords("version_decl");
        for word in ["image", "replicas", "at", "auto-register", "policy", "probe"] {
            assert!(version.contains(&word.to_string()), "{word} in {version:?}");
        }
        assert!(!version.contains(&"calls".to_string()), "{version:?}");
        assert_eq!(
            block_keywords("policy_block"),
            ["connections", "http", "lb", "outlier", "tls"]
        );
        assert!(block_keywords("gateway_decl").contains(&"listen".to_string()));
        assert!(block_keywords("naming_block").is_empty());
    }

    #[test]
    fn a_changed_grammar_changes_the_keywords() {
        let grammar = "/// doc\nfile = { SOI ~ a* ~ EOI }\na = { \"alpha\" ~ \"{\" ~ (b | c? ~ \"gamma\" | !\"no\" ~ d)* ~ \"}\" }\nb = @{ (\"beta\" | \"bet\") ~ !'a'..'z' }\nc = { \"cee\" }\nd = _{ name }\nname = @{ 'a'..'z'+ }\n";
        let rules = rules(grammar);
        assert_eq!(keywords_in(&rules, "file"), ["alpha"]);
        assert_eq!(keywords_in(&rules, "a"), ["bet", "beta", "cee", "gamma"]);
    }
}
