//! The requests of the sweep: for each route and caller, one harmless request and one per
//! input and hostile value.

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, Method};

use super::routes::Route;
use super::values::{encode, json_string, Hostile, MAX_IN_ADDRESS};

/// The values that stand for the path parameters not under test.
pub struct Known {
    pub me: String,
    /// A member of the admin's company, so member pages reach their forms.
    pub member: String,
    pub meeting_type: String,
}

fn harmless_param(route: &Route, name: &str, known: &Known) -> String {
    match (route.path, name) {
        // The admin's own id where changing it is harmless, so the handler reads the body.
        ("/v4/user/{id}", _) if route.method == "PATCH" => known.me.clone(),
        ("/v4/meeting-type/{id}", _) => known.meeting_type.clone(),
        // A member whose given name changes: SCIM reads the body (DELETE keeps the unknown id).
        ("/scim/v2/Users/{id}" | "/scim/Users/{id}", _) if route.method == "PATCH" => {
            known.member.clone()
        }
        (path, "id") if path.starts_with("/settings/members/{id}") => known.member.clone(),
        (_, "provider") => "okta".into(),
        (_, "slug") => "hostile-co".into(),
        (_, "file") => "app.css".into(),
        (_, "token") => "Qk2d9xSweepTokenThatDoesNotExist00".into(),
        // A well-formed id that names nothing: nothing is changed or removed.
        _ => "0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f".into(),
    }
}

fn params_of(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// One request of the sweep.
#[derive(Clone)]
pub struct Probe {
    pub label: String,
    pub method: Method,
    pub path: String,
    pub body: Option<(&'static str, Vec<u8>)>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Who sends the probes.
pub struct Caller {
    pub name: &'static str,
    pub client: Client,
    pub csrf: String,
    pub bearer: Option<String>,
    /// `x-meetergo-api-user-id` when it is not the input under test.
    pub user_header: Option<String>,
    pub signed_in: bool,
    /// Sends only the `/v4` probes (a Platform API key has no pages).
    pub api_only: bool,
    /// The company's SCIM secret, sent to the SCIM routes.
    pub scim_bearer: Option<String>,
}

/// The JSON API's routes: `/v4`, and the webhooks at meetergo's unversioned path.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/v4") || path.starts_with("/webhooks")
}

pub fn probes_for(route: &Route, caller: &Caller, known: &Known, values: &[Hostile]) -> Vec<Probe> {
    let api = is_api(route.path);
    let scim = route.path.starts_with("/scim");
    let json_body = api || scim;
    let method = Method::from_bytes(route.method.as_bytes()).unwrap();
    let params = params_of(route.path);
    let build = |param: Option<(&str, &[u8])>,
                 query: Option<(&str, &[u8])>,
                 field: Option<(&str, &[u8])>,
                 header: Option<(&str, &[u8])>,
                 label: String|
     -> Probe {
        let mut path = route.path.to_owned();
        for p in &params {
            let value = match param {
                Some((name, v)) if name == *p => encode(v),
                _ => encode(harmless_param(route, p, known).as_bytes()),
            };
            path = path.replace(&format!("{{{p}}}"), &value);
        }
        if let Some((name, v)) = query {
            path = format!("{path}?{name}={}", encode(v));
        }
        let body = if method == Method::GET || method == Method::DELETE {
            None
        } else if json_body {
            let mut json = b"{".to_vec();
            for (i, (name, harmless)) in route.fields.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                json.extend(serde_json::to_vec(name).unwrap());
                json.push(b':');
                match field {
                    Some((f, v)) if f == *name => json.extend(v),
                    _ => json.extend(harmless.as_bytes()),
                }
            }
            json.push(b'}');
            Some((
                if scim {
                    "application/scim+json"
                } else {
                    "application/json"
                },
                json,
            ))
        } else {
            let mut form: Vec<String> = route
                .fields
                .iter()
                .map(|(name, harmless)| match field {
                    Some((f, v)) if f == *name => format!("{name}={}", encode(v)),
                    _ => format!("{name}={}", encode(harmless.as_bytes())),
                })
                .collect();
            form.push(format!("csrf_token={}", caller.csrf));
            Some((
                "application/x-www-form-urlencoded",
                form.join("&").into_bytes(),
            ))
        };
        let mut headers = Vec::new();
        if scim {
            let bearer = match header {
                Some(("authorization", v)) => Some([b"Bearer ".as_slice(), v].concat()),
                _ => caller
                    .scim_bearer
                    .as_ref()
                    .map(|b| format!("Bearer {b}").into_bytes()),
            };
            if let Some(v) = bearer.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                headers.push((reqwest::header::AUTHORIZATION, v));
            }
        }
        if api {
            let bearer = match header {
                Some(("authorization", v)) => Some([b"Bearer ".as_slice(), v].concat()),
                _ => caller
                    .bearer
                    .as_ref()
                    .map(|b| format!("Bearer {b}").into_bytes()),
            };
            let named = match header {
                Some(("x-meetergo-api-user-id", v)) => Some(v.to_vec()),
                _ => caller.user_header.as_ref().map(|h| h.clone().into_bytes()),
            };
            // Values a header cannot carry (NUL, CR LF) are left out, as HTTP clients do.
            for (name, value) in [
                (reqwest::header::AUTHORIZATION, bearer),
                (HeaderName::from_static("x-meetergo-api-user-id"), named),
            ] {
                if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                    headers.push((name, v));
                }
            }
        }
        Probe {
            label: format!(
                "{} {} {} [{}]",
                caller.name, route.method, route.path, label
            ),
            method: method.clone(),
            path,
            body,
            headers,
        }
    };

    let mut probes = vec![build(None, None, None, None, "harmless".into())];
    for value in values {
        let v = value.bytes.as_slice();
        let json = json_string(v);
        // HTTP clients refuse addresses over 64 kB: the longest values go in as long as allowed.
        let in_address = v.get(..MAX_IN_ADDRESS).unwrap_or(v);
        for p in params.iter().copied() {
            probes.push(build(
                Some((p, in_address)),
                None,
                None,
                None,
                format!("{{{p}}} = {}", value.name),
            ));
        }
        for q in route.query {
            probes.push(build(
                None,
                Some((q, in_address)),
                None,
                None,
                format!("?{q} = {}", value.name),
            ));
        }
        for (f, _) in route.fields {
            if json_body {
                probes.push(build(
                    None,
                    None,
                    Some((f, json.as_slice())),
                    None,
                    format!("{f} = {}", value.name),
                ));
                // Numbers as numbers too, not only as strings.
                if serde_json::from_slice::<serde_json::Number>(v).is_ok() || v == b"1e309" {
                    probes.push(build(
                        None,
                        None,
                        Some((f, v)),
                        None,
                        format!("{f} = raw {}", value.name),
                    ));
                }
            } else {
                probes.push(build(
                    None,
                    None,
                    Some((f, v)),
                    None,
                    format!("{f} = {}", value.name),
                ));
            }
        }
        if scim {
            probes.push(build(
                None,
                None,
                None,
                Some(("authorization", v)),
                format!("authorization: {}", value.name),
            ));
        }
        if api {
            for h in ["authorization", "x-meetergo-api-user-id"] {
                probes.push(build(
                    None,
                    None,
                    None,
                    Some((h, v)),
                    format!("{h}: {}", value.name),
                ));
            }
        }
        // A query parameter no route knows, and the path's own bytes.
        probes.push(build(
            None,
            Some(("unexpected", in_address)),
            None,
            None,
            format!("?unexpected = {}", value.name),
        ));
    }
    probes
}
