//! openapi.yaml's request rules against the parsers behind them: a client that validates a
//! request with the schema must get the answer the schema promises. Where the schema accepts a
//! value the parser refuses (or the other way round), the document is wrong. Two password rules
//! a schema cannot state are named in its text and left out here: the common-password list
//! (cases on it are skipped) and the length after NFC normalisation (the strings tested are
//! ones normalisation leaves valid or invalid as they were).

mod common;

use std::sync::LazyLock;

use auth::domain::is_common_password;
use auth::{Password, Username};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A validator for `#/components/schemas/{name}` of openapi.yaml.
fn component(name: &str) -> jsonschema::Validator {
    common::OpenApi::load().validator(&json!({"$ref": format!("#/components/schemas/{name}")}))
}

/// Whether `NewPassword` and `Password::parse_new` agree on `password` (the common-password
/// rule aside). Returns what the parser said, for the caller's coverage counts.
fn agree_on_new_password(schema: &jsonschema::Validator, password: &str) -> bool {
    let parsed = Password::parse_new(password.to_owned()).is_ok();
    if !is_common_password(password) {
        assert_eq!(
            schema.is_valid(&Value::from(password)),
            parsed,
            "NewPassword and Password::parse_new disagree on {password:?}"
        );
    }
    parsed
}

#[test]
fn new_password_schema_states_the_parsers_rules() {
    let schema = component("NewPassword");
    let accepted = [
        "correct horse battery staple",
        "é-ünïcødé-pässwörd",
        // Inner white space and a character that is neither control nor white space.
        "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}x",
        // Zero-width space is a format character (Cf): neither control nor white space.
        "\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}",
        &"p".repeat(Password::MAX_LEN),
    ];
    let refused = [
        "",
        "seven c",
        &"p".repeat(Password::MAX_LEN + 1),
        "        ",
        "\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}",
        "\u{2003}\u{2028}\u{2029}\u{202f}\u{205f}\u{1680}\u{3000}\u{2000}",
        "contains\0a nul",
        "tab\tinside it",
        "line\nbreak inside",
        "del\u{7f}character",
        "next\u{85}line (C1)",
    ];
    for password in accepted {
        assert!(agree_on_new_password(&schema, password), "{password:?}");
    }
    for password in refused {
        assert!(!agree_on_new_password(&schema, password), "{password:?}");
    }
    // The rule the schema leaves to its text.
    assert!(schema.is_valid(&json!("password123")));
    let refused = Password::parse_new("Password123".into()).err().unwrap();
    assert!(refused.to_string().contains("most common"), "{refused}");
}

/// Every character up to U+30FF, which holds every control character and every white-space
/// character, and a sample beyond: alone eight times, and after eight ordinary ones. (After
/// `-` nothing composes, and eight of one character normalise to at least eight.)
#[test]
fn new_password_schema_treats_each_character_as_the_parser_does() {
    let schema = component("NewPassword");
    let chars = (0..=0x30ff)
        .chain((0x3100..=0x10ffff).step_by(97))
        .filter_map(char::from_u32);
    let (mut alone, mut inside) = (0, 0);
    for c in chars {
        alone += usize::from(agree_on_new_password(&schema, &c.to_string().repeat(8)));
        inside += usize::from(agree_on_new_password(&schema, &format!("horse-b-{c}")));
    }
    // Most characters are accepted both ways; the counts show the rules were exercised.
    assert!(alone > 10_000 && inside > alone, "{alone} {inside}");
}

#[test]
fn username_schema_states_the_parsers_rules() {
    let schema = component("Credentials");
    let agree = |username: &str| {
        let parsed = Username::parse(username).is_ok();
        let body = json!({"username": username, "password": "correct horse battery staple"});
        assert_eq!(schema.is_valid(&body), parsed, "{username:?}");
        parsed
    };
    for username in ["ada", "Ada.Lovelace_1815-x", &"a".repeat(32)] {
        assert!(agree(username), "{username:?}");
    }
    for username in [
        "",
        "ab",
        &"a".repeat(33),
        "ada lovelace",
        "adé",
        "ada\n",
        "ada@x",
    ] {
        assert!(!agree(username), "{username:?}");
    }
}

/// Characters around each rule's edges: letters, ASCII and Unicode white space, C0 and C1
/// control characters, a format character. All are unchanged by NFC, so lengths compare.
fn edge_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::sample::select(vec!['a', 'Z', '7', '!', 'é', '\u{200b}']),
        3 => prop::sample::select(vec![
            ' ', '\u{a0}', '\u{1680}', '\u{2003}', '\u{2028}', '\u{2029}', '\u{202f}',
            '\u{205f}', '\u{3000}',
        ]),
        1 => prop::sample::select(vec!['\0', '\t', '\n', '\r', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}']),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn new_password_schema_and_parser_agree(
        chars in prop::collection::vec(edge_char(), 0..140),
        only_space in prop::collection::vec(
            prop::sample::select(vec![' ', '\u{a0}', '\u{3000}', '\u{2028}', '\t']), 6..12),
    ) {
        static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| component("NewPassword"));
        agree_on_new_password(&SCHEMA, &chars.iter().collect::<String>());
        agree_on_new_password(&SCHEMA, &only_space.iter().collect::<String>());
    }
}
