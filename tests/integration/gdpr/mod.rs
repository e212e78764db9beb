//! The GDPR export: "Download my data" on the profile (`GET /profile/export`), an owner's or
//! admin's download of a member's data (`GET /settings/members/{id}/export`) and
//! `GET /v4/user/{id}/export` for Platform API keys. One JSON attachment, streamed page by page.

mod api;
mod console;
mod large;
mod sigterm;

use serde_json::Value;

use crate::helpers::Reply;

/// The document's format, as the console writes it.
pub const FORMAT: &str = "meetergo-console.personal-data/1";

/// The export in a reply: a JSON attachment with a file name, parsed.
#[track_caller]
pub fn document(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    let disposition = r.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"personal-data-")
            && disposition.ends_with(".json\""),
        "{disposition}"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let doc: Value = serde_json::from_str(&r.body).expect("the export is one JSON document");
    assert_eq!(doc["format"], FORMAT);
    // The lists and their counts agree: nothing was cut off.
    for (list, count) in [
        ("meetingTypes", "meetingTypes"),
        ("appointments", "appointments"),
        ("auditEvents", "auditEvents"),
    ] {
        assert_eq!(
            doc[list].as_array().expect(list).len() as u64,
            doc["counts"][count].as_u64().expect(count),
            "{list}"
        );
    }
    doc
}

/// The kinds of the document's audit events.
pub fn audit_kinds(doc: &Value) -> Vec<String> {
    doc["auditEvents"]
        .as_array()
        .expect("auditEvents")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}
