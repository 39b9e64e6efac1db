//! Syntax errors over many broken inputs: the code, the token the diagnostic points at, the
//! fix it offers and its help; the byte-order mark; and the rule that a syntax error comes
//! alone, without the semantic errors that would be its consequences.

use super::{error::PLACES, format, parse};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// A service around `body`, for short rows.
fn service(body: &str) -> String {
    format!("namespace a {{\n  service s {{\n    port http 80\n    pod v1 image \"x\"\n    pod v2 image \"y\"\n    {body}\n  }}\n}}\n")
}

/// `input` with the expected primary token between `«` and `»`: the text, and the token's
/// byte range in it.
fn marked(input: &str) -> (String, usize, usize) {
    let start = input.find('«').unwrap_or_else(|| panic!("no « in {input:?}"));
    let end = input.find('»').unwrap_or_else(|| panic!("no » in {input:?}")) - '«'.len_utf8();
    (input.replace(['«', '»'], ""), start, end)
}

/// The one syntax error of `text`.
fn error(text: &str) -> Diagnostic {
    let (file, diagnostics) = parse(0, text);
    assert!(file.is_none(), "read without error: {text:?}");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    diagnostics.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn syntax_errors_point_at_the_token_and_say_what_was_meant() {
    // Each row: the input with the offending token marked, the fix's replacement (if one
    // is offered) and a piece of the message or help.
    let rows: Vec<(String, Option<&str>, &str)> = vec![
        // Misspelled keywords, at every level.
        ("«namesapce» shop { }".into(), Some("namespace"), "did you mean `namespace`?"),
        ("«Namespace» shop { }".into(), Some("namespace"), "at the top level"),
        ("«improt» \"x.mesh\"\nnamespace a { }".into(), Some("import"), "did you mean `import`?"),
        ("namespace a { «servcie» web { } }".into(), Some("service"), "unknown keyword `servcie` in a namespace"),
        ("namespace a { «gatway» g { } }".into(), Some("gateway"), "did you mean `gateway`?"),
        ("namespace a { «extrenal» api { } }".into(), Some("external"), "did you mean `external`?"),
        ("namespace a { «namign» { } }".into(), Some("naming"), "did you mean `naming`?"),
        ("namespace a { «services» web { } }".into(), Some("service"), "did you mean `service`?"),
        ("namespace a { «Service» web { } }".into(), Some("service"), "did you mean `service`?"),
        (service("«prot» http 81"), Some("port"), "unknown keyword `prot` in a service"),
        (service("«rout» -> v1"), Some("route"), "did you mean `route`?"),
        (service("«calss» b"), Some("calls"), "did you mean `calls`?"),
        (service("«plicy» { lb round-robin }"), Some("policy"), "did you mean `policy`?"),
        (service("route -> v1 «timout» 5s"), Some("timeout"), "did you mean `timeout`?"),
        (service("route -> v1 «retires» 3"), Some("retries"), "did you mean `retries`?"),
        (
            "namespace a { gateway g { «listner» http 80 hosts \"*\" } }".into(),
            Some("listen"),
            "did you mean `listen`?",
        ),
        (
            "namespace a { gateway g { listen http 80 «host» \"*\" } }".into(),
            Some("hosts"),
            "did you mean `hosts`?",
        ),
        // A word near nothing: the keywords of the place, or what the word is called here.
        ("namespace a { «web» { } }".into(), None, "the keywords here: `allow`, `cluster`"),
        (service("«verison» v3 image \"z\""), None, "`pod v1 image"),
        // A keyword in the wrong block.
        ("namespace a { «route» -> b }".into(), None, "routes belong in a service"),
        ("«service» web { }".into(), None, "services are declared in a namespace"),
        (service("«listen» http 80"), None, "`listen` belongs in a gateway"),
        // Values.
        (service("pod v3 image «nginx:1.25»"), Some("\"nginx:1.25\""), "double quotes"),
        (service("pod v3 image «'nginx'»"), Some("\"nginx\""), "double quotes"),
        (service("pod v3 image \"z\" env MODE «fast»"), Some("\"fast\""), "double quotes"),
        (service("route { v1 «90» v2 10% }"), Some("90%"), "a percentage"),
        (service("route { v1 «90 %» v2 10% }"), Some("90%"), "right after the number"),
        (service("route { v1 «-5» v2 105% }"), Some("-5%"), "a percentage"),
        (service("route -> v1 mirror v2 30 «%»"), Some("30%"), "right after the number"),
        (service("pod v3 image \"z\" replicas «=» 2"), Some(" "), "without `=` or `:`"),
        (service("pod v3 image«:» \"z\""), Some(" "), "without `=` or `:`"),
        (service("pod v3 image \"z\"«;»"), Some(""), "not separated by `;`"),
        (service("vm v3 at 10.0.0.1, 10.0.0.2«,»\n  }"), Some(""), "trailing `,`"),
        (service("port http\n    «route» -> v1"), None, "`port http 8080`"),
        (service("pod v3 image «\"z»"), None, "this string is not closed"),
        (service("route «v1»\n  }"), Some("-> v1"), "follows `->`"),
        (service("route { v1: «50»% v2 50% }"), Some(""), "without `=` or `:`"),
        (service("route { v1 50%«,» v2 50% }"), Some(""), "no `,` here"),
        (service("pod v3 image \"z\"\n    «}»"), None, "a `}` too many"),
        ("namespace a { service s { vm v1 at ${IP} } } «}»".into(), None, "closes nothing"),
        // A byte-order mark inside the file.
        ("namespace a { «\u{feff}»}".into(), Some(""), "byte-order mark"),
        // Blocks left open.
        (
            "namespace a {\n  service x «{»\n    port http 80\n    pod v1 image \"x\"\n\n  service y {\n    port http 80\n    pod v1 image \"y\"\n  }\n}\n".into(),
            None,
            "close the block with `}` before line 6",
        ),
        (
            "namespace a {\n  service x «{»\n    port http 80\n    pod v1 image \"x\"\n}\nnamespace b {\n}\n".into(),
            None,
            "the block of `service x` is never closed",
        ),
        (
            "namespace a «{»\n  service x {\n    port http 80\n    pod v1 image \"x\"\n  }\n".into(),
            None,
            "add the missing `}`",
        ),
        (
            // On one line the braces alone tell: the outer block is the one left open.
            "namespace a «{» service x { port http 80 pod v1 image \"x\" }".into(),
            None,
            "the block of `namespace a` is never closed",
        ),
    ];
    let mut failures = Vec::new();
    for (input, fix, words) in &rows {
        let (text, start, end) = marked(input);
        let (file, diagnostics) = parse(0, &text);
        let Some(d) = diagnostics.into_iter().next().filter(|_| file.is_none()) else {
            failures.push(format!("{input:?}: read without a syntax error"));
            continue;
        };
        let mut wrong = Vec::new();
        if d.code != Code::Syntax {
            wrong.push(format!("code {}", d.code.id()));
        }
        if (d.primary.span.start, d.primary.span.end) != (start, end) {
            let at = text.get(d.primary.span.start..d.primary.span.end).unwrap_or("?");
            wrong.push(format!(
                "points at {at:?} ({}..{})",
                d.primary.span.start, d.primary.span.end
            ));
        }
        let offered = d.fix.as_ref().map(|f| f.replacement.as_str());
        if offered != *fix {
            wrong.push(format!("fix {offered:?}"));
        }
        let said = format!("{} / {}", d.message, d.help.as_deref().unwrap_or(""));
        if !said.contains(words) {
            wrong.push(format!("says {said:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{input:?}: {}", wrong.join(", ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_fix_makes_the_file_read_further() {
    // A fix replaces the offending text; with it applied, reading stops later or not at all.
    for input in [
        "namespace a { servcie web { port http 80 pod v1 image \"x\" } }",
        "namespace a { service web { port http 80 pod v1 image nginx route -> v1 timout 5s } }",
        "namespace a { service web { port http 80 pod v1 image \"x\" pod v2 image \"y\" route { v1 90 v2 10% } } }",
    ] {
        let mut text = input.to_string();
        for _ in 0..3 {
            let (file, diagnostics) = parse(0, &text);
            if file.is_some() {
                break;
            }
            let fix = diagnostics[0]
                .fix
                .clone()
                .unwrap_or_else(|| panic!("no fix for {text:?}"));
            text.replace_range(fix.span.start..fix.span.end, &fix.replacement);
        }
        let (file, diagnostics) = parse(0, &text);
        assert!(file.is_some() && diagnostics.is_empty(), "{text:?}: {diagnostics:?}");
    }
}

#[test]
fn a_leading_byte_order_mark_is_ignored_and_fmt_drops_it() {
    let text = "\u{feff}import \"b.mesh\"\nnamespace a { }\n";
    let (file, diagnostics) = parse(0, text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let file = file.unwrap_or_default();
    // Spans count the mark's three bytes.
    let name = &file.namespaces[0].name;
    assert_eq!(&text[name.span.start..name.span.end], "a");
    let (imports, problems) = super::imports(0, text);
    assert!(problems.is_empty());
    assert_eq!(imports.iter().map(|i| i.value.as_str()).collect::<Vec<_>>(), ["b.mesh"]);
    assert_eq!(
        format(0, text).ok().as_deref(),
        Some("import \"b.mesh\"\nnamespace a {\n}\n")
    );
    // Only at the very start.
    assert_eq!(error(" \u{feff}namespace a { }").primary.span.start, 1);
}

#[test]
fn a_split_without_percent_is_refused_by_fmt_too() {
    let text = service("route { v1 90 v2 10 }");
    let refused = format(0, &text).err().map(|d| d.message);
    assert_eq!(refused.as_deref(), Some("expected a weight such as `90%`, found `90`"));
}

#[test]
fn a_syntax_error_comes_alone() {
    // One file the grammar rejects: the other files are not checked either, since their
    // references into it would all be errors caused by it.
    let sources = [
        crate::Source::new("a.mesh", "namespace a { servcie web { } }"),
        crate::Source::new(
            "b.mesh",
            "namespace b { service t { port http 99999 route -> nowhere } }",
        ),
    ];
    let diagnostics = crate::compile(&sources, &crate::Options::default())
        .err()
        .map(|f| f.diagnostics)
        .unwrap_or_default();
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["M1001"]);
}

#[test]
fn an_unknown_property_does_not_also_report_what_it_may_have_meant() {
    // `imgae` is read (the grammar keeps unknown properties for the checker), reported with
    // its fix, and the version is not also said to lack an image; nor a VM its address.
    for (text, fix) in [
        (service("pod v3 imgae \"z\""), "image"),
        (service("pod v3 { replcias 2 imgae \"z\" }"), "replicas"),
        (service("vm v3 adress \"10.0.0.3\""), "address"),
    ] {
        let diagnostics = crate::compile(
            &[crate::Source::new("a.mesh", text.as_str())],
            &crate::Options::default(),
        )
        .err()
        .map(|f| f.diagnostics)
        .unwrap_or_default();
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.id()).collect();
        assert!(
            !codes.is_empty() && codes.iter().all(|c| *c == "M2007"),
            "{text}: {codes:?}"
        );
        let first = &diagnostics[0];
        if fix == "address" {
            // Not close to a VM property (`at` is the address): no fix, a list instead.
            assert!(first.fix.is_none(), "{first:?}");
        } else {
            assert_eq!(first.fix.as_ref().map(|f| f.replacement.as_str()), Some(fix), "{text}");
        }
    }
}

#[test]
fn every_place_names_a_keyword_of_the_grammar() {
    let grammar = include_str!("../../grammar/mesh.pest");
    for (word, _) in PLACES {
        assert!(
            grammar.contains(&format!("\"{word}\"")),
            "`{word}` is not a keyword of mesh.pest"
        );
    }
}

#[test]
fn damaged_files_give_one_error_that_points_inside_and_never_panic() {
    // Insertions of the characters and words that trip readers up, at every seventeenth
    // character of an example: each damaged file either reads or gives exactly one
    // syntax-stage error, on a character boundary of the file, whose fix (if any) is too.
    let text = include_str!("../../examples/bookinfo.mesh");
    let inserts = [
        "ä", "\u{a0}", "{", "}", "%", ",", "'", "\u{feff}", "servcie ", "=", "\"", "->", " 30 ", "\t",
    ];
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(17).collect();
    for at in boundaries {
        for insert in inserts {
            let damaged = format!("{}{insert}{}", &text[..at], &text[at..]);
            let (file, diagnostics) = parse(0, &damaged);
            if file.is_some() {
                continue;
            }
            assert_eq!(diagnostics.len(), 1, "{damaged}");
            let d = &diagnostics[0];
            let mut spans = vec![d.primary.span];
            spans.extend(d.secondary.iter().map(|l| l.span));
            spans.extend(d.fix.iter().map(|f| f.span));
            for span in spans {
                assert!(
                    span.start <= span.end
                        && damaged.is_char_boundary(span.start)
                        && damaged.is_char_boundary(span.end),
                    "{span:?} in {damaged}"
                );
            }
        }
    }
}

#[test]
fn hostile_inputs_neither_overflow_the_stack_nor_hang() {
    // No rule of the grammar calls itself, so pest's depth is bounded by the grammar, not by
    // the input, and meshc builds pest without its stack probe. These inputs would find a
    // recursion anywhere in reading: each is parsed on a thread with a small stack (1 MiB,
    // an eighth of a main thread's), within a generous time.
    let n = 20_000;
    let head = "namespace a {\n  service b {\n    port http 80\n    pod v1 image \"x\"\n";
    let tail = "\n  }\n}\n";
    let cases: Vec<(&str, String, Option<usize>)> = vec![
        (
            "100 000 nested `{`",
            format!("namespace a {}", "{".repeat(100_000)),
            None,
        ),
        ("100 000 `[`", format!("{head}    image {}", "[".repeat(100_000)), None),
        (
            "a 1 MB line of values",
            format!("{head}    policy {{ lb{} }}{tail}", " round-robin".repeat(100_000)),
            Some(100_000),
        ),
        (
            "a long split",
            format!("{head}    route {{{} }}{tail}", " v1 1%".repeat(n)),
            Some(n),
        ),
        (
            "a long address list",
            format!("{head}    vm v2 at 10.0.0.1{}{tail}", ", 10.0.0.1".repeat(n)),
            Some(n + 1),
        ),
        (
            "long condition and alternative lists",
            format!(
                "{head}    route{}{} -> v1{tail}",
                " header x-a \"y\"".repeat(n),
                " or prefix \"/\"".repeat(n)
            ),
            Some(n + 1),
        ),
        (
            "a 1 MB string",
            format!("{head}    pod v2 image \"{}\"{tail}", "y".repeat(1_000_000)),
            None,
        ),
        (
            "a 1 MB name",
            format!("namespace {} {{ }}", "a".repeat(1_000_000)),
            None,
        ),
    ];
    for (what, text, count) in cases {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let (file, diagnostics) = parse(0, &text);
                let counted = file.as_ref().map(longest_list);
                let _ = sender.send((file.is_some(), diagnostics.len(), counted));
            })
            .unwrap_or_else(|e| panic!("{what}: no thread: {e}"));
        let (read, errors, counted) = receiver
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("{what}: no answer within two minutes (or the thread died): {e}"));
        match count {
            Some(count) => {
                assert!(read && errors == 0, "{what}: {errors} errors");
                assert_eq!(counted, Some(count), "{what}");
            }
            None => assert!(read || errors == 1, "{what}: {errors} errors"),
        }
    }
}

/// The longest list of `file`'s first service: a setting's values, a split, a route's
/// alternatives or conditions, a VM's addresses.
fn longest_list(file: &crate::ast::File) -> usize {
    use crate::ast::{Action, PropertyKind};
    let Some(service) = file.namespaces.first().and_then(|n| n.services.first()) else {
        return 0;
    };
    let settings = service
        .policies
        .iter()
        .flat_map(|p| &p.settings)
        .map(|s| s.values.len());
    let routes = service.routes.iter().flat_map(|r| {
        let split = match &r.action {
            Action::Split { entries, .. } => entries.len(),
            _ => 0,
        };
        let conditions = r.alternatives.iter().map(|a| a.conditions.len());
        [split, r.alternatives.len()].into_iter().chain(conditions)
    });
    let addresses = service
        .versions
        .iter()
        .flat_map(|v| &v.properties)
        .map(|p| match &p.kind {
            PropertyKind::At(addresses) => addresses.len(),
            _ => 0,
        });
    settings.chain(routes).chain(addresses).max().unwrap_or(0)
}

/// Found by fuzzing: `format` read a lone CR as part of a comment, so the control character
/// after it vanished into the comment and the formatted file compiled while the file did
/// not. It now reads the text as a [`crate::Source`] does, where a lone CR ends the line.
#[test]
fn format_reads_a_lone_carriage_return_as_a_line_end_as_compiling_does() {
    for text in ["#\r\u{b}", "#namespace\r\r\u{c}\r\r"] {
        let compiled = crate::compile(&[crate::Source::new("x.mesh", text)], &crate::Options::default());
        assert!(compiled.is_err(), "{text:?} compiles");
        assert!(format(0, text).is_err(), "{text:?} formats");
    }
    assert_eq!(
        format(0, "# a comment\rnamespace a {}\r").ok().as_deref(),
        Some("# a comment\nnamespace a {\n}\n")
    );
}
