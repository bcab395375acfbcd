//! The scripts in `www/` against the contract: every fact a script declares (`const NAME =
//! value;`) has the contract's value, a script writes a fact's value nowhere but in that
//! declaration, and every snake_case string a script compares or reports is a stable error code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use contract::ErrorCode;
use contract::javascript::{Value, facts};

/// The scripts, and the pages with inline scripts, the companion serves.
const SCRIPTS: [&str; 6] = [
    "frame.js",
    "embed-frame.js",
    "embed.js",
    "back.js",
    "callback.html",
    "../index.html",
];

fn read(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../www")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The value of `const name = ...;` in `script`, if it declares one: a string literal or a
/// whole number.
fn declared(script: &str, name: &str) -> Option<Value> {
    let declaration = format!("const {name} =");
    let start = script.find(&declaration)? + declaration.len();
    let rest = script[start..].trim_start();
    let end = rest.find(';')?;
    let literal = rest[..end].trim();
    if let Some(text) = literal.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        return Some(Value::Text(text.to_owned()));
    }
    Some(Value::Number(literal.parse().unwrap_or_else(|_| {
        panic!("`const {name}` must be a plain string or number literal, not {literal:?}")
    })))
}

/// Every double-quoted string literal in `script` (the scripts use no escapes in them).
fn string_literals(script: &str) -> Vec<&str> {
    let mut literals = Vec::new();
    let mut rest = script;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        literals.push(&after[..end]);
        rest = &after[end + 1..];
    }
    literals
}

#[test]
fn every_fact_a_script_declares_has_the_contracts_value() {
    let mut declared_somewhere = 0;
    for script in SCRIPTS {
        let text = read(script);
        for (name, value) in facts() {
            if let Some(found) = declared(&text, name) {
                assert_eq!(found, value, "{script}: const {name}");
                declared_somewhere += 1;
            }
        }
    }
    assert!(
        declared_somewhere >= facts().len(),
        "each fact is declared by a script that uses it"
    );
}

#[test]
fn no_script_writes_a_facts_value_outside_its_declaration() {
    for script in SCRIPTS {
        let text = read(script);
        let literals = string_literals(&text);
        for (name, value) in facts() {
            let Value::Text(value) = value else { continue };
            let written = literals.iter().filter(|l| **l == value).count();
            let declarations = usize::from(declared(&text, name).is_some());
            assert_eq!(
                written, declarations,
                "{script} writes {value:?} {written} times; write it once, as `const {name} = \"{value}\";`"
            );
        }
    }
}

#[test]
fn every_error_code_a_script_names_is_a_stable_code() {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    for script in SCRIPTS {
        let text = read(script);
        for literal in string_literals(&text) {
            let looks_like_a_code = literal.contains('_')
                && literal.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !literal.starts_with('_');
            if looks_like_a_code {
                assert!(
                    codes.contains(&literal),
                    "{script}: {literal:?} is not a stable error code"
                );
            }
        }
    }
}
