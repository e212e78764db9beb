//! The JSON shapes: the User resource (RFC 7643 §4.1), list responses, a User from a POST or
//! PUT body, and the discovery documents, which say exactly what this service provider does.

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use crate::db::models::ScimPerson;
use crate::paths::scim as paths;
use crate::services::scim::Changes;

use super::error::Problem;
use super::patch::{boolish, email_of};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SP_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one list answer holds (`count` above it is lowered to it).
pub const MAX_RESULTS: i64 = 200;

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A person as a SCIM User; `base` is the public URL with the scope asked under.
pub fn user(person: &ScimPerson, base: &str) -> Value {
    let (user, scim) = person;
    let (given, family) = scim
        .as_ref()
        .map(|s| (s.given_name.clone(), s.family_name.clone()))
        .unwrap_or_default();
    let mut name = json!({ "formatted": user.name });
    if let Some(o) = name.as_object_mut() {
        if let Some(g) = given {
            o.insert("givenName".into(), g.into());
        }
        if let Some(f) = family {
            o.insert("familyName".into(), f.into());
        }
    }
    let mut resource = json!({
        "schemas": [USER_SCHEMA],
        "id": user.id.as_str(),
        "userName": user.email,
        "name": name,
        "displayName": user.name,
        "emails": [{"value": user.email, "type": "work", "primary": true}],
        "active": user.is_active(),
        "meta": {
            "resourceType": "User",
            "created": timestamp(user.created_at),
            "lastModified": timestamp(user.updated_at),
            "location": format!("{base}{}/{}", paths::USERS, user.id),
        },
    });
    if let (Some(external), Some(o)) = (
        scim.as_ref().and_then(|s| s.external_id.clone()),
        resource.as_object_mut(),
    ) {
        o.insert("externalId".into(), external.into());
    }
    resource
}

/// The attributes a caller asked for (`attributes`) or asked to leave out
/// (`excludedAttributes`), RFC 7644 §3.4.2.5, as lower-cased paths of one or two parts
/// (`name`, `name.givenname`). `schemas` and `id` are always returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    include: Vec<Vec<String>>,
    exclude: Vec<Vec<String>>,
}

const USER_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const ALWAYS_RETURNED: &[&str] = &["schemas", "id"];

fn attribute_paths<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    names
        .into_iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .map(|n| {
            let bare = n.strip_prefix(USER_URN_PREFIX).unwrap_or(&n);
            bare.split('.').map(str::to_owned).collect()
        })
        .collect()
}

impl Projection {
    /// From the comma-separated query parameters.
    pub fn from_query(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self {
            include: attribute_paths(attributes.unwrap_or_default().split(',')),
            exclude: attribute_paths(excluded.unwrap_or_default().split(',')),
        }
    }

    /// From the arrays of a SearchRequest body.
    pub fn from_lists(attributes: &[String], excluded: &[String]) -> Self {
        Self {
            include: attribute_paths(attributes.iter().map(String::as_str)),
            exclude: attribute_paths(excluded.iter().map(String::as_str)),
        }
    }

    /// The resource with only what was asked for (`attributes` wins when both are given,
    /// which RFC 7644 calls mutually exclusive).
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(full) = resource else {
            return resource;
        };
        let key_of = |name: &str| full.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned();
        if !self.include.is_empty() {
            let mut kept = serde_json::Map::new();
            for name in ALWAYS_RETURNED {
                if let Some(v) = full.get(*name) {
                    kept.insert((*name).to_owned(), v.clone());
                }
            }
            for path in &self.include {
                let Some((first, rest)) = path.split_first() else {
                    continue;
                };
                let Some(key) = key_of(first) else { continue };
                let Some(value) = full.get(&key) else {
                    continue;
                };
                match rest.first() {
                    None => {
                        kept.insert(key, value.clone());
                    }
                    Some(sub) => {
                        let part = only_sub(value, sub);
                        merge(kept.entry(key).or_insert(Value::Null), part);
                    }
                }
            }
            return Value::Object(kept);
        }
        let mut full = full;
        for path in &self.exclude {
            let Some((first, rest)) = path.split_first() else {
                continue;
            };
            if ALWAYS_RETURNED.contains(&first.as_str()) {
                continue;
            }
            let Some(key) = full.keys().find(|k| k.eq_ignore_ascii_case(first)).cloned() else {
                continue;
            };
            match rest.first() {
                None => {
                    full.remove(&key);
                }
                Some(sub) => {
                    if let Some(value) = full.get_mut(&key) {
                        drop_sub(value, sub);
                    }
                }
            }
        }
        Value::Object(full)
    }
}

/// `value` (an object, or a list of objects) with only its sub-attribute `sub`.
fn only_sub(value: &Value, sub: &str) -> Value {
    let pick = |o: &serde_json::Map<String, Value>| {
        Value::Object(
            o.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(sub))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    };
    match value {
        Value::Object(o) => pick(o),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| i.as_object().map_or_else(|| i.clone(), pick))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn drop_sub(value: &mut Value, sub: &str) {
    let drop =
        |o: &mut serde_json::Map<String, Value>| o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
    match value {
        Value::Object(o) => drop(o),
        Value::Array(items) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(drop),
        _ => {}
    }
}

/// Two requested parts of one attribute (`name.givenName`, `name.familyName`) together.
fn merge(into: &mut Value, part: Value) {
    match (into, part) {
        (Value::Object(a), Value::Object(b)) => a.extend(b),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                merge(x, y);
            }
        }
        (slot, part) => *slot = part,
    }
}

pub fn list(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn optional_text(value: Option<&Value>, what: &str) -> Result<Option<String>, Problem> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Problem::new(
            "invalidValue",
            format!("{what} must be a string."),
        )),
    }
}

/// A whole User (POST, PUT) as changes: every attribute the console keeps is set, to `None`
/// when absent, but `active`, which stays as it is unless sent.
pub fn user_from_body(body: &Value) -> Result<Changes, Problem> {
    let object = body
        .as_object()
        .ok_or_else(|| Problem::new("invalidSyntax", "The body must be a User object."))?;
    let user_name =
        optional_text(field(object, "userName"), "userName")?.filter(|u| !u.trim().is_empty());
    // Checked even when userName is there: a malformed list is refused, not skipped.
    let from_emails = match field(object, "emails") {
        Some(emails) => email_of(emails)?,
        None => None,
    };
    let email = user_name.or(from_emails);
    let email = email.ok_or_else(|| {
        Problem::new("invalidValue", "userName (the person's email) is required.")
    })?;
    let name = match field(object, "name") {
        None | Some(Value::Null) => None,
        Some(Value::Object(n)) => Some(n),
        Some(_) => return Err(Problem::new("invalidValue", "name must be an object.")),
    };
    let part = |key: &str| -> Result<Option<String>, Problem> {
        optional_text(name.and_then(|n| field(n, key)), &format!("name.{key}"))
    };
    let formatted = match part("formatted")? {
        Some(f) => Some(f),
        None => optional_text(field(object, "displayName"), "displayName")?,
    };
    let active = field(object, "active")
        .filter(|v| !v.is_null())
        .map(boolish)
        .transpose()?;
    Ok(Changes {
        email: Some(email),
        given_name: Some(part("givenName")?),
        family_name: Some(part("familyName")?),
        formatted: Some(formatted),
        external_id: Some(optional_text(field(object, "externalId"), "externalId")?),
        active,
    })
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SP_CONFIG_SCHEMA],
        "documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer SCIM secret",
                "description": "Authorization: Bearer <the SCIM secret from Settings → Provisioning>",
                "primary": true
            },
            {
                "type": "httpbasic",
                "name": "HTTP Basic",
                "description": "The company id as user name and the SCIM secret as password",
                "primary": false
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}{}", paths::SERVICE_PROVIDER_CONFIG),
        },
    })
}

pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": paths::USERS,
        "description": "A member of the company",
        "schema": USER_SCHEMA,
        "schemaExtensions": [],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}{}/User", paths::RESOURCE_TYPES),
        },
    })
}

fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut value: Value, changes: Value) -> Value {
    if let (Some(o), Some(c)) = (value.as_object_mut(), changes.as_object()) {
        for (k, v) in c {
            o.insert(k.clone(), v.clone());
        }
    }
    value
}

/// The attributes the console keeps, as the User schema (RFC 7643 §7) describes them.
pub fn user_schema(base: &str) -> Value {
    let name_parts = [
        attribute(
            "formatted",
            "string",
            "The full name; the console keeps one name.",
        ),
        attribute("givenName", "string", "Given name."),
        attribute("familyName", "string", "Family name."),
    ];
    let email_parts = [
        attribute(
            "value",
            "string",
            "The address; the console keeps one, the userName.",
        ),
        with(
            attribute("type", "string", "Always work."),
            json!({"canonicalValues": ["work"]}),
        ),
        attribute("primary", "boolean", "Always true."),
    ];
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A member of the company",
        "attributes": [
            with(attribute("userName", "string", "The person's email, unique across all companies."),
                 json!({"required": true, "uniqueness": "server"})),
            with(attribute("name", "complex", "The person's name."), json!({"subAttributes": name_parts})),
            attribute("displayName", "string", "The name shown in the console."),
            with(attribute("emails", "complex", "The person's email (the same as userName)."),
                 json!({"multiValued": true, "subAttributes": email_parts})),
            attribute("active", "boolean", "false deprovisions: offboarding to the successor chosen in the console."),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}{}/{USER_SCHEMA}", paths::SCHEMAS),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_create_body_becomes_changes() {
        // Okta's create request (developer.okta.com, SCIM 2.0 reference).
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "Isaac.Brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });
        let c = user_from_body(&body).unwrap_or_default();
        assert_eq!(c.email.as_deref(), Some("Isaac.Brock@example.com"));
        assert_eq!(c.given_name, Some(Some("Isaac".into())));
        assert_eq!(c.formatted, Some(Some("Isaac Brock".into())));
        assert_eq!(c.external_id, Some(Some("00ujl29u0le5T6Aj10h7".into())));
        assert_eq!(c.active, Some(true));
    }

    #[test]
    fn entra_create_body_becomes_changes() {
        // Entra ID's create request (learn.microsoft.com, "Develop a SCIM endpoint").
        let body = json!({
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        });
        let c = user_from_body(&body).unwrap_or_default();
        assert_eq!(
            c.email.as_deref(),
            Some("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com")
        );
        assert_eq!(c.formatted, Some(Some("givenName familyName".into())));
        assert_eq!(c.active, Some(true));
    }

    #[test]
    fn a_user_needs_a_user_name_and_well_typed_attributes() {
        let kind = |body: Value| user_from_body(&body).err().map(|p| p.scim_type);
        assert_eq!(
            kind(json!({"name": {"givenName": "x"}})),
            Some("invalidValue")
        );
        assert_eq!(kind(json!({"userName": 5})), Some("invalidValue"));
        assert_eq!(
            kind(json!({"userName": "a@b.c", "name": "x"})),
            Some("invalidValue")
        );
        assert_eq!(
            kind(json!({"userName": "a@b.c", "active": "perhaps"})),
            Some("invalidValue")
        );
        assert_eq!(kind(json!(["userName"])), Some("invalidSyntax"));
        assert_eq!(
            kind(json!({"userName": "a@b.c", "emails": "nope"})),
            Some("invalidValue")
        );
        let c = user_from_body(&json!({"userName": "a@b.c"})).unwrap_or_default();
        assert_eq!((c.active, c.given_name), (None, Some(None)));
    }

    #[test]
    fn attributes_and_excluded_attributes_shape_the_answer() {
        let full = json!({
            "schemas": [USER_SCHEMA], "id": "u1", "userName": "a@b.c",
            "name": {"formatted": "A B", "givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@b.c", "type": "work", "primary": true}],
            "active": true, "meta": {"resourceType": "User"}
        });
        let only = Projection::from_query(
            Some("userName, urn:ietf:params:scim:schemas:core:2.0:User:name.givenName,name.familyName,emails.value"),
            None,
        );
        assert_eq!(
            only.apply(full.clone()),
            json!({
                "schemas": [USER_SCHEMA], "id": "u1", "userName": "a@b.c",
                "name": {"givenName": "A", "familyName": "B"},
                "emails": [{"value": "a@b.c"}]
            })
        );
        let without =
            Projection::from_lists(&[], &["NAME".into(), "id".into(), "emails.type".into()]);
        let answer = without.apply(full.clone());
        assert!(answer.get("name").is_none());
        assert_eq!(answer["id"], "u1", "id is always returned");
        assert_eq!(
            answer["emails"],
            json!([{"value": "a@b.c", "primary": true}])
        );
        assert_eq!(Projection::default().apply(full.clone()), full);
    }

    #[test]
    fn the_service_provider_config_says_what_is_supported() {
        let c = service_provider_config("https://x/scim/v2");
        assert_eq!(c["patch"]["supported"], json!(true));
        assert_eq!(c["filter"]["supported"], json!(true));
        assert_eq!(c["filter"]["maxResults"], json!(MAX_RESULTS));
        for unsupported in ["bulk", "sort", "etag", "changePassword"] {
            assert_eq!(c[unsupported]["supported"], json!(false), "{unsupported}");
        }
    }
}
