//! PATCH (RFC 7644 §3.5.2) into the attribute changes the console keeps. Both RFC forms —
//! `path` with a value, and no `path` with an object of attributes — and what Okta and Entra ID
//! really send: `"op": "Replace"`, `"False"` as a string, `emails[type eq "work"].value`, and
//! dotted attribute names inside a path-less value object.
//!
//! Attributes of the core User schema and the enterprise extension that the console does not
//! keep (title, phone numbers, department, …) are accepted and ignored, so a default IdP
//! mapping provisions; an attribute that exists in neither is `invalidPath`.

use serde_json::{Map, Value};

use crate::services::scim::Changes;

use super::error::Problem;

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";

/// Core attributes the console does not keep: accepted, ignored.
const IGNORED: &[&str] = &[
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "phonenumbers",
    "addresses",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509certificates",
    "name.middlename",
    "name.honorificprefix",
    "name.honorificsuffix",
];

/// Changes in the making: a `userName` wins over an email from `emails`.
#[derive(Default)]
struct Draft {
    changes: Changes,
    user_name: Option<String>,
    email: Option<String>,
}

impl Draft {
    fn finish(self) -> Changes {
        Changes {
            email: self.user_name.or(self.email),
            ..self.changes
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn syntax(detail: impl Into<String>) -> Problem {
    Problem::new("invalidSyntax", detail)
}

fn value_problem(detail: impl Into<String>) -> Problem {
    Problem::new("invalidValue", detail)
}

/// The PATCH body's operations as changes.
pub fn parse(body: &Value) -> Result<Changes, Problem> {
    let body = body
        .as_object()
        .ok_or_else(|| syntax("The body must be a PatchOp object."))?;
    if let Some(schemas) = body.get("schemas") {
        let named = schemas
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
        if !named {
            return Err(syntax(format!("schemas must contain {PATCH_SCHEMA}.")));
        }
    }
    let operations = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| syntax("Operations must be a non-empty array."))?;
    let mut draft = Draft::default();
    for operation in operations {
        apply_operation(&mut draft, operation)?;
    }
    Ok(draft.finish())
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn apply_operation(draft: &mut Draft, operation: &Value) -> Result<(), Problem> {
    let operation = operation
        .as_object()
        .ok_or_else(|| syntax("Each operation must be an object."))?;
    let op = match field(operation, "op").and_then(Value::as_str) {
        Some(o) if o.eq_ignore_ascii_case("add") => Op::Add,
        Some(o) if o.eq_ignore_ascii_case("replace") => Op::Replace,
        Some(o) if o.eq_ignore_ascii_case("remove") => Op::Remove,
        _ => return Err(syntax("op must be add, replace or remove.")),
    };
    let path = match field(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if !p.trim().is_empty() => Some(p.trim()),
        Some(_) => return Err(Problem::new("invalidPath", "path must be a string.")),
    };
    let value = field(operation, "value");
    match (op, path) {
        (Op::Remove, None) => Err(Problem::new("noTarget", "remove needs a path.")),
        (Op::Remove, Some(path)) => set(draft, path, None),
        (_, Some(path)) => set(
            draft,
            path,
            Some(value.ok_or_else(|| value_problem("The operation has no value."))?),
        ),
        (_, None) => {
            let object = value
                .and_then(Value::as_object)
                .ok_or_else(|| value_problem("Without a path, the value must be an object."))?;
            for (key, v) in object {
                set(draft, key, Some(v))?;
            }
            Ok(())
        }
    }
}

/// A boolean, or the strings "true"/"false" in any case (Entra ID sends `"False"`).
pub fn boolish(value: &Value) -> Result<bool, Problem> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(value_problem("active must be true or false.")),
    }
}

fn text(value: &Value, what: &str) -> Result<String, Problem> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| value_problem(format!("{what} must be a string.")))
}

/// A string, or null/absent for "none".
fn optional_text(value: Option<&Value>, what: &str) -> Result<Option<String>, Problem> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text(v, what).map(Some),
    }
}

/// The address to keep from an `emails` value: the primary one, else the work one, else the first.
pub fn email_of(emails: &Value) -> Result<Option<String>, Problem> {
    let list: Vec<&Value> = match emails {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![emails],
        Value::Null => Vec::new(),
        _ => return Err(value_problem("emails must be a list of objects.")),
    };
    let chosen = list
        .iter()
        .find(|v| flag(v, "primary", |p| boolish(p).unwrap_or(false)))
        .or_else(|| {
            list.iter().find(|v| {
                flag(v, "type", |t| {
                    t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("work"))
                })
            })
        })
        .or_else(|| list.first());
    match chosen {
        None => Ok(None),
        Some(v) => {
            let object = v
                .as_object()
                .ok_or_else(|| value_problem("emails must be a list of objects."))?;
            optional_text(field(object, "value"), "emails.value")
        }
    }
}

/// Whether the object `v` has `key` and its value passes `want`.
fn flag(v: &Value, key: &str, want: impl Fn(&Value) -> bool) -> bool {
    v.as_object().and_then(|o| field(o, key)).is_some_and(want)
}

/// An `emails[...]` path with a filter: `emails[type eq "work"].value`, `emails[primary eq true]`.
fn email_filter_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("emails[")?;
    let (filter, after) = rest.split_once(']')?;
    Some((filter, after))
}

fn set(draft: &mut Draft, raw_path: &str, value: Option<&Value>) -> Result<(), Problem> {
    let lower = raw_path.trim().to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix(ENTERPRISE_URN) {
        // The enterprise extension (department, manager, …): nothing the console keeps.
        return if rest.is_empty() || rest.starts_with(':') {
            Ok(())
        } else {
            Err(Problem::new(
                "invalidPath",
                format!("Unknown attribute {raw_path}."),
            ))
        };
    }
    let path = match lower.strip_prefix(USER_URN) {
        Some(rest) => rest.strip_prefix(':').unwrap_or(rest),
        None => &lower,
    };
    let changes = &mut draft.changes;
    match path {
        "active" => {
            let v = value.ok_or_else(|| Problem::new("mutability", "active cannot be removed."))?;
            changes.active = Some(boolish(v)?);
        }
        "username" => {
            let v =
                value.ok_or_else(|| Problem::new("mutability", "userName cannot be removed."))?;
            draft.user_name = Some(text(v, "userName")?);
        }
        "displayname" | "name.formatted" => {
            changes.formatted = Some(optional_text(value, "name.formatted")?);
        }
        "name.givenname" => changes.given_name = Some(optional_text(value, "name.givenName")?),
        "name.familyname" => changes.family_name = Some(optional_text(value, "name.familyName")?),
        "externalid" => changes.external_id = Some(optional_text(value, "externalId")?),
        "name" => match value {
            None => {
                changes.given_name = Some(None);
                changes.family_name = Some(None);
                changes.formatted = Some(None);
            }
            Some(v) => {
                let object = v
                    .as_object()
                    .ok_or_else(|| value_problem("name must be an object."))?;
                for (key, part) in object {
                    set(draft, &format!("name.{key}"), Some(part))?;
                }
            }
        },
        "emails" | "emails.value" => {
            if let Some(v) = value {
                let email = if path == "emails" {
                    email_of(v)?
                } else {
                    Some(text(v, "emails.value")?)
                };
                if let Some(email) = email {
                    draft.email = Some(email);
                }
            }
        }
        _ => {
            if let Some((filter, after)) = email_filter_path(path) {
                let wanted = filter.contains("\"work\"")
                    || filter.replace(' ', "").contains("primaryeqtrue");
                if let (Some(v), true) = (value, wanted) {
                    let email = match after {
                        ".value" => Some(text(v, "emails.value")?),
                        "" => email_of(v)?,
                        // emails[...].type, .primary, .display: nothing to keep.
                        _ => None,
                    };
                    if let Some(email) = email {
                        draft.email = Some(email);
                    }
                }
                return Ok(());
            }
            let attribute = path.split(['.', '[']).next().unwrap_or(path);
            if !(IGNORED.contains(&path) || IGNORED.contains(&attribute)) {
                return Err(Problem::new(
                    "invalidPath",
                    format!("Unknown attribute {raw_path}."),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(operations: Value) -> Result<Changes, Problem> {
        parse(&json!({"schemas": [PATCH_SCHEMA], "Operations": operations}))
    }

    #[test]
    fn okta_deactivates_with_a_path_less_replace() {
        // Okta: {"op":"replace","value":{"active":false}}
        let c = ops(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(c.map(|c| c.active), Ok(Some(false)));
    }

    #[test]
    fn entra_sends_capitalised_ops_and_booleans_as_strings() {
        // Entra ID: {"op":"Replace","path":"active","value":"False"}
        let c = ops(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(c.map(|c| c.active), Ok(Some(false)));
        let c = ops(json!([{"op": "Replace", "path": "active", "value": "True"}]));
        assert_eq!(c.map(|c| c.active), Ok(Some(true)));
        assert!(ops(json!([{"op": "Replace", "path": "active", "value": "maybe"}])).is_err());
    }

    #[test]
    fn entra_updates_the_work_email_and_name_parts_by_path() {
        let c = ops(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Ada"},
            {"op": "Replace", "path": "name.familyName", "value": "King"},
            {"op": "Add", "path": "externalId", "value": "ext-1"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            {"op": "Replace", "path": "title", "value": "Countess"}
        ]))
        .unwrap_or_default();
        assert_eq!(c.email.as_deref(), Some("new@example.com"));
        assert_eq!(c.given_name, Some(Some("Ada".into())));
        assert_eq!(c.family_name, Some(Some("King".into())));
        assert_eq!(c.external_id, Some(Some("ext-1".into())));
        assert_eq!(c.active, None);
    }

    #[test]
    fn a_path_less_value_object_takes_nested_and_dotted_attributes() {
        let c = ops(json!([{"op": "replace", "value": {
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "name.formatted": "Grace B. Hopper",
            "userName": "grace@example.com",
            "emails": [{"value": "other@example.com", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Grace B. Hopper"
        }}]))
        .unwrap_or_default();
        assert_eq!(c.given_name, Some(Some("Grace".into())));
        assert_eq!(c.family_name, Some(Some("Hopper".into())));
        assert_eq!(c.formatted, Some(Some("Grace B. Hopper".into())));
        assert_eq!(
            c.email.as_deref(),
            Some("grace@example.com"),
            "userName wins"
        );
    }

    #[test]
    fn emails_alone_pick_the_primary_then_work_then_first() {
        let email = |v: Value| email_of(&v).ok().flatten();
        assert_eq!(
            email(json!([{"value": "a@x.y", "type": "home"}, {"value": "b@x.y", "primary": true}])),
            Some("b@x.y".into())
        );
        assert_eq!(
            email(json!([{"value": "a@x.y", "type": "home"}, {"value": "b@x.y", "type": "Work"}])),
            Some("b@x.y".into())
        );
        assert_eq!(email(json!([{"value": "a@x.y"}])), Some("a@x.y".into()));
        assert_eq!(email(json!([])), None);
        assert!(email_of(&json!("a@x.y")).is_err());
    }

    #[test]
    fn removing_clears_optional_attributes_and_refuses_required_ones() {
        let c = ops(json!([{"op": "remove", "path": "externalId"}, {"op": "remove", "path": "name.familyName"}]))
            .unwrap_or_default();
        assert_eq!(c.external_id, Some(None));
        assert_eq!(c.family_name, Some(None));
        let p = ops(json!([{"op": "remove", "path": "userName"}])).err();
        assert_eq!(p.map(|p| p.scim_type), Some("mutability"));
        let p = ops(json!([{"op": "remove"}])).err();
        assert_eq!(p.map(|p| p.scim_type), Some("noTarget"));
    }

    #[test]
    fn malformed_patches_are_refused_with_their_scim_type() {
        let kind = |body: Value| parse(&body).err().map(|p| p.scim_type);
        assert_eq!(kind(json!([])), Some("invalidSyntax"));
        assert_eq!(kind(json!({"Operations": []})), Some("invalidSyntax"));
        assert_eq!(
            kind(
                json!({"schemas": ["nope"], "Operations": [{"op": "add", "path": "active", "value": true}]})
            ),
            Some("invalidSyntax")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "move", "path": "active", "value": true}]})),
            Some("invalidSyntax")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "add", "path": "favouriteColour", "value": "red"}]})),
            Some("invalidPath")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "add", "path": 7, "value": "red"}]})),
            Some("invalidPath")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "add", "value": "not an object"}]})),
            Some("invalidValue")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "add", "path": "userName", "value": 5}]})),
            Some("invalidValue")
        );
        assert_eq!(
            kind(json!({"Operations": [{"op": "add", "path": "userName"}]})),
            Some("invalidValue")
        );
    }
}
