//! The filters this service provider understands (RFC 7644 §3.4.2.2): one `eq` comparison on
//! `userName`, `externalId`, `id` or `emails[.value]` — what Okta and Entra ID send to find a
//! person before creating them. Anything else is `invalidFilter`, never a silently wider list.

use crate::db::models::ScimMatch;

use super::error::Problem;

const USER_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new("invalidFilter", detail)
}

/// `attribute eq "value"`, the attribute in any case, optionally with the User schema's URN.
pub fn parse(raw: &str) -> Result<ScimMatch, Problem> {
    let raw = raw.trim();
    let (attribute, rest) = raw
        .split_once(char::is_whitespace)
        .ok_or_else(|| invalid("Use a filter like userName eq \"ada@example.com\"."))?;
    let rest = rest.trim_start();
    let (operator, value) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| invalid("A comparison needs an operator and a value."))?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(invalid(format!(
            "Only the eq operator is supported, not {operator}."
        )));
    }
    let value: String = serde_json::from_str(value.trim())
        .map_err(|_| invalid("The value must be one JSON string, like \"ada@example.com\"; and/or are not supported."))?;
    let lower = attribute.to_ascii_lowercase();
    let attribute = lower.strip_prefix(USER_URN_PREFIX).unwrap_or(&lower);
    match attribute {
        "username" | "emails" | "emails.value" => Ok(ScimMatch::Email(value.to_lowercase())),
        "externalid" => Ok(ScimMatch::ExternalId(value)),
        // An id that is not one of ours matches nobody.
        "id" => Ok(value.parse().map_or(ScimMatch::Nobody, ScimMatch::Id)),
        _ => Err(invalid(format!(
            "Filtering by {attribute} is not supported; use userName, externalId, id or emails."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_name_eq_matches_any_case_of_the_value() {
        assert_eq!(
            parse(r#"userName eq "Ada@Example.COM""#),
            Ok(ScimMatch::Email("ada@example.com".into()))
        );
        assert_eq!(
            parse(r#"  USERNAME   EQ   "a b@example.com" "#),
            Ok(ScimMatch::Email("a b@example.com".into()))
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x@y.z""#),
            Ok(ScimMatch::Email("x@y.z".into()))
        );
        assert_eq!(
            parse(r#"emails.value eq "x@y.z""#),
            Ok(ScimMatch::Email("x@y.z".into()))
        );
        assert_eq!(
            parse(r#"externalId eq "00u1""#),
            Ok(ScimMatch::ExternalId("00u1".into()))
        );
        assert_eq!(parse(r#"id eq "nope""#), Ok(ScimMatch::Nobody));
    }

    #[test]
    fn everything_else_is_an_invalid_filter() {
        for bad in [
            "",
            "userName",
            "userName eq",
            r#"userName ne "x""#,
            r#"userName co "x""#,
            "userName pr",
            r#"userName eq "x" and active eq true"#,
            r#"userName eq "x" or userName eq "y""#,
            "userName eq x",
            r#"title eq "x""#,
            r#"name.givenName eq "x""#,
            "userName eq \"\u{0}",
        ] {
            let problem = parse(bad).err();
            assert_eq!(problem.map(|p| p.scim_type), Some("invalidFilter"), "{bad}");
        }
    }
}
