//! Validated values: once parsed at the edge, the rest of the code trusts them.

use std::fmt;

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};

/// A company's id. Ids are their own types, bound and read by diesel as the number they
/// wrap, so that a person's id cannot be passed where a company's is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, DieselNewType)]
pub struct CompanyId(pub i64);

/// A person's id in one company (a `users` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, DieselNewType)]
pub struct UserId(pub i64);

/// An email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.contains('.')
                    && !email
                        .chars()
                        .any(|c| c.is_whitespace() || c == '<' || c == '>')
                    && !domain.contains('@')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err("Enter an email address like jane@example.com.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Admin,
    Manager,
    User,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::User];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "user" => Ok(Role::User),
            _ => Err("Choose a role: owner, admin, manager or user.".into()),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::User => "user",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Manager => "Manager",
            Role::User => "User",
        }
    }

    /// Owners and admins run the company: users, integrations, settings.
    pub fn manages_company(&self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Owners, admins and managers see everyone's integration health.
    pub fn sees_health(&self) -> bool {
        !matches!(self, Role::User)
    }
}

/// A name a person typed (theirs, their company's, an API token's): trimmed,
/// NFC-normalised (so the same name always has the same characters), non-empty, of
/// sensible length, and free of control characters and of the marks that turn the
/// direction of text, which would let a name show as something it is not.
pub fn parse_name(raw: &str, what: &str) -> Result<String, String> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        Err(format!("Enter {what}."))
    } else if name.chars().count() > 100 {
        Err(format!(
            "{} is too long: keep it under 100 characters.",
            capitalize(what)
        ))
    } else if let Some(c) = name.chars().find(|c| hidden_or_turning(*c)) {
        Err(format!(
            "{} holds an invisible control or text-direction character (U+{:04X}). Type it again without it.",
            capitalize(what),
            u32::from(c)
        ))
    } else {
        Ok(name)
    }
}

/// Control characters (Unicode's Cc: NUL, BEL, ESC, newlines…) and the bidirectional
/// marks, embeddings, overrides and isolates (U+200E/F, U+061C, U+202A–U+202E,
/// U+2066–U+2069).
fn hidden_or_turning(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Up to two initials for a company or person without a picture.
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Jane@Acme.Test ").unwrap().as_str(),
            "jane@acme.test"
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@acme.test",
            "jane@acme",
            "ja ne@acme.test",
            "a@b@c.test",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("superuser").is_err());
        assert!(Role::Admin.manages_company());
        assert!(!Role::Manager.manages_company());
        assert!(Role::Manager.sees_health());
        assert!(!Role::User.sees_health());
    }

    #[test]
    fn names_are_normalised_and_hidden_characters_refused() {
        // "é" typed as "e" and a combining accent comes out as the one character.
        assert_eq!(
            parse_name(" Jose\u{301} ", "your name").unwrap(),
            "Jos\u{e9}"
        );
        assert_eq!(parse_name("Zo\u{eb} Acme", "x").unwrap(), "Zo\u{eb} Acme");
        assert_eq!(
            parse_name("\u{5e9}\u{5dc}\u{5d5}\u{5dd}", "x")
                .unwrap()
                .chars()
                .count(),
            4
        );
        for bad in [
            "Ac\0me",
            "Ac\u{7}me",
            "Ac\u{1b}[31mme",
            "Ac\nme",
            "Ac\u{7f}me",
            "Ac\u{85}me",
            "evil\u{202e}gnp.exe",
            "a\u{202a}b",
            "a\u{2066}b",
            "a\u{2069}b",
            "a\u{200f}b",
            "a\u{61c}b",
        ] {
            let refused = parse_name(bad, "the company's name").unwrap_err();
            assert!(
                refused.starts_with("The company's name holds"),
                "{bad:?}: {refused}"
            );
        }
        assert!(parse_name("a\u{202e}b", "x")
            .unwrap_err()
            .contains("U+202E"));
    }

    #[test]
    fn initials_from_names() {
        assert_eq!(initials("Acme Widgets Ltd"), "AW");
        assert_eq!(initials("acme"), "A");
        assert_eq!(initials("   "), "?");
    }
}
