//! Checked values that forms and API bodies are parsed into.

use std::fmt;

use super::text_enum::text_enum;

/// Why a submitted value was refused, and which field it belongs beside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// An email address, trimmed and lower-cased, so uniqueness is case-insensitive. The local
/// part is an ASCII dot-atom (no quoting, no `<`, `>` or `"`, nothing invisible) and the domain
/// is kept in its IDNA ASCII form, so two addresses that look alike are the same address or
/// cannot both exist: `ada@exämple.com` is stored as `ada@xn--exmple-cua.com`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid =
            || FieldError::new(field, "Enter a valid email address, like name@example.com.");
        if value.is_empty() {
            return Err(FieldError::new(field, "Enter your email address."));
        }
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || is_invisible(c)) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain = ascii_domain(domain).ok_or_else(invalid)?;
        if !is_dot_atom(local) || local.len() > 64 {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that reorder the text around them: a name holding one can read as another.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control, bidi and format characters (zero-width, BOM, soft hyphen, fillers, variation
/// selectors, tags): they change how a text looks or reads without being seen.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || is_bidi_control(c)
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{206F}'
            | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// RFC 5322 dot-atom in ASCII: letters, digits and ``!#$%&'*+-/=?^_`{|}~``, with single dots
/// between them.
fn is_dot_atom(local: &str) -> bool {
    const SPECIAL: &str = "!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIAL.contains(c))
        })
}

/// The domain after IDNA (UTS 46) normalisation, if it is a host name with at least two
/// labels of letters, digits and inner dashes.
fn ascii_domain(domain: &str) -> Option<String> {
    let url::Host::Domain(ascii) = url::Host::parse(domain).ok()? else {
        return None;
    };
    let labels_ok = ascii.len() <= 253
        && ascii.contains('.')
        && ascii.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    // The top-level domain is never all digits (that would be an IPv4 address in disguise).
    let tld_ok = ascii
        .rsplit('.')
        .next()
        .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    (labels_ok && tld_ok).then_some(ascii)
}

/// A short human text: a person's name, a company name, a token name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub fn parse(
        field: &'static str,
        what: &str,
        raw: &str,
        max: usize,
    ) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::new(field, format!("Enter a {what}.")));
        }
        if value.chars().count() > max {
            return Err(FieldError::new(
                field,
                format!("Use at most {max} characters."),
            ));
        }
        // Emoji sequences need zero-width joiners, so only what reorders or controls text.
        if value.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(FieldError::new(
                field,
                "Remove the control and text-direction characters.",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Lower-case letters, digits and single dashes: safe in a URL path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let ok = !value.is_empty()
            && value.len() <= 80
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "Use 1 to 80 lower-case letters, digits and single dashes.",
            ))
        }
    }

    /// Turns any text into a slug ("Acme GmbH" → "acme-gmbh"); empty text gives "workspace".
    pub fn from_text(text: &str) -> Self {
        let mut out = String::new();
        for c in text.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_end_matches('-').chars().take(60).collect();
        let trimmed = trimmed.trim_end_matches('-').to_owned();
        Self(if trimmed.is_empty() {
            "workspace".to_owned()
        } else {
            trimmed
        })
    }

    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What someone typed into a search or filter box: trimmed and cut to `MAX_CHARS` characters,
/// so a pasted novel can neither make a pattern too complex for the database nor fill the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 200;

    pub fn new(raw: &str) -> Self {
        Self(
            raw.trim()
                .chars()
                .take(Self::MAX_CHARS)
                .collect::<String>()
                .trim_end()
                .to_owned(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A lower-case LIKE pattern that finds the text anywhere, its own `%`, `_` and `\` taken
    /// literally: use it with `ESCAPE '\'`.
    pub fn contains_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.0.len() + 2);
        pattern.push('%');
        for c in self.0.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

text_enum! {
    /// What a person may do in their company. Declared from least to most power, so the
    /// derived order compares them.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Member => "member",
        Admin => "admin",
        Owner => "owner",
    }
}

impl Role {
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

text_enum! {
    /// Whether an account can be used: a removed one was offboarded and keeps only its history.
    pub enum UserStatus {
        Active => "active",
        Deactivated => "deactivated",
        Removed => "removed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse("email", " Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn ordinary_addresses_still_parse() {
        for good in [
            "ada@example.com",
            "ada.lovelace+console@mail.example.co.uk",
            "o'brien@example.ie",
            "x_y-z@sub-domain.example.org",
            "123@example.com",
        ] {
            assert_eq!(
                Email::parse("email", good).map(|e| e.0),
                Ok(good.to_owned()),
                "{good}"
            );
        }
    }

    #[test]
    fn look_alike_and_unsafe_addresses_are_refused() {
        for bad in [
            "a\"xxxx@x.test",
            "\"ada\"@example.com",
            "<ada@example.com>",
            "ada>@example.com",
            "ada\u{200B}@example.com",
            "\u{FEFF}ada@example.com",
            "ada@exam\u{200D}ple.com",
            "ada\u{202E}moc.elpmaxe@x.com",
            "ada@example.com\u{2066}",
            "ada\u{0}@example.com",
            "ada\u{7}@example.com",
            "ad\u{AD}a@example.com",
            "аda@example.com",
            "ada@@example.com",
            ".ada@example.com",
            "ada.@example.com",
            "a..da@example.com",
            "ada@exa_mple.com",
            "ada@-example.com",
            "ada@example.123",
            "ada@127.0.0.1",
            "ada@[127.0.0.1]",
            "ada@example..com",
            "ada@xn--.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse("email", &long_local).is_err());
    }

    #[test]
    fn international_domains_are_stored_in_their_ascii_form() {
        let unicode = Email::parse("email", "Ada@EXÄMPLE.com").map(|e| e.0);
        assert_eq!(unicode, Ok("ada@xn--exmple-cua.com".to_owned()));
        assert_eq!(
            unicode,
            Email::parse("email", "ada@xn--exmple-cua.com").map(|e| e.0),
            "the two spellings are one address"
        );
        // Full-width letters fold to ASCII under IDNA: not a second account.
        assert_eq!(
            Email::parse("email", "ada@ｅxample.com").map(|e| e.0),
            Ok("ada@example.com".to_owned())
        );
    }

    #[test]
    fn labels_refuse_invisible_characters() {
        assert!(Label::parse("name", "name", "Ada\u{202E}", 50).is_err());
        assert!(Label::parse("name", "name", "Ada\u{0}", 50).is_err());
        assert!(Label::parse("name", "name", "Ada\u{2066}x", 50).is_err());
        assert!(Label::parse("name", "name", "Ada Lovelace", 50).is_ok());
    }

    #[test]
    fn slugs_from_text() {
        assert_eq!(Slug::from_text("Acme GmbH & Co.").as_str(), "acme-gmbh-co");
        assert_eq!(Slug::from_text("!!!").as_str(), "workspace");
        assert!(Slug::parse("slug", "Bad Slug").is_err());
        assert!(Slug::parse("slug", "good-slug-2").is_ok());
    }

    #[test]
    fn search_text_is_capped_and_taken_literally() {
        let long = SearchText::new(&"x".repeat(49_999));
        assert_eq!(long.as_str().chars().count(), SearchText::MAX_CHARS);
        assert_eq!(SearchText::new("  Ada ").as_str(), "Ada");
        assert_eq!(
            SearchText::new("50%_off\\Ada").contains_pattern(),
            "%50\\%\\_off\\\\ada%"
        );
    }

    #[test]
    fn roles_order_by_power() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
