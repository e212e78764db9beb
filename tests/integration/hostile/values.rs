//! The values a person might send to hurt or confuse the console, and how they are put into a
//! path, a query, a form or a JSON body.

/// A value a person might send to hurt or confuse the console.
pub struct Hostile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

pub fn hostile_values() -> Vec<Hostile> {
    let text = |name, s: &str| Hostile {
        name,
        bytes: s.as_bytes().to_vec(),
    };
    vec![
        text("NUL", "\0"),
        text("NUL inside", "ada\0@example.com"),
        text("control characters", "\u{1}\u{7}\u{8}\u{1b}[31m\u{7f}"),
        text("C1 control", "x\u{85}y"),
        text("CR LF", "a\r\nSet-Cookie: x=1"),
        text("100 kB", &"A".repeat(100_000)),
        Hostile {
            name: "invalid UTF-8",
            bytes: vec![0xFF, 0xFE, b'x', 0xC0, 0x80],
        },
        text("bidi override", "\u{202E}moc.elpmaxe@ada"),
        text("zero width", "ad\u{200B}a@exam\u{FEFF}ple.com"),
        text("SQL", "' OR 1=1 --"),
        text("SQL drop", "'; DROP TABLE users; --"),
        text("LIKE wildcards", "%_\\%\\"),
        text("HTML", "<script>alert(1)</script>"),
        text("HTML attribute", "\"><img src=x onerror=alert(1)>"),
        text("quoted email", "a\"xxxx@x.test"),
        text("huge number", "99999999999999999999"),
        text("negative huge number", "-99999999999999999999"),
        text("minus one", "-1"),
        text("zero", "0"),
        text("i64 max", "9223372036854775807"),
        text("float overflow", "1e309"),
        text("malformed UUID", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
        text("nil UUID", "00000000-0000-0000-0000-000000000000"),
        text("path traversal", "../../../etc/passwd"),
        text("encoded NUL text", "%00"),
        text("base64 XML bomb", &base64(BILLION_LAUGHS)),
        text("base64 XXE", &base64(XXE)),
        text("empty", ""),
        text("spaces", "   "),
    ]
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&g;</samlp:Response>"#;
const XXE: &str = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">&x;</samlp:Response>"#;

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// IdP metadata with a signing certificate (self-signed, for these tests only), so the SAML
/// routes of the sweep's company have a configuration to check responses against.
pub const IDP_METADATA: &str = concat!(
    r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" "#,
    r#"xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://127.0.0.1:9/idp">"#,
    r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
    r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>"#,
    "MIIDFTCCAf2gAwIBAgIUdraprTVbdi6RgrrhNEQHiKwqdxEwDQYJKoZIhvcNAQELBQAwGTEXMBUGA1UEAwwOc3dlZXAtaWRwLnRlc3QwIBcNMjYxMjAxMTQ1MjIxWhgPMjEyNjExMDcxNDUyMjFaMBkxFzAVBgNVBAMMDnN3ZWVwLWlkcC50ZXN0MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3S/0TdT7PyG8exnXdSRbd9ZVEWhJppczKQEQbpEDsbVNAX37wKf4cAM36OW5fjIdaH3ZkCx4Uktej5cPWouUgudlWTdQXlzGiPllU+4ZWeqyyGz48kF1kqxZPB4sud+HmmmgW21LCojkgLwVDcbTvkV4gNw2HD6TSIm/HbySJaj65mo5QVDm7y/kPtC1JJLKbSxFYPdeZU2puEcDnfQgY7hPT62GaVjeJ4fV9wHna+94T8lfbpDuoAFvgDGtMBQhlJ6ulBhOQtB2n1mPTX6+lbhzPHi+wyvbgZz8oeLGdgsI7w7noT6Vz8r60mdoqglKkMQEbUI0iIa0iabQEWfUQQIDAQABo1MwUTAdBgNVHQ4EFgQUuLMZPs+5HjK6jAu690UbE/5gQzAwHwYDVR0jBBgwFoAUuLMZPs+5HjK6jAu690UbE/5gQzAwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAw8GNdZZBdXq1DPospkahtQCmduX4EDUCfFVhFr70d8nWzRsi9oGZMUngFLwLy6r8zHM4UQDYsvo7Ty7yBXJ0KeLQusw/noogrcI2W4kFJ0pZxulV+j2utR/ULC3GCqW2UFvb3as5zbICUevneg/MrbOQEqmlmQbX20uDnJF/ZysbIB+RQNRvDYi+yjYUpswRTeV44XmbavudFY9Gs0VR30UUS4nZLm+v3JYk7xiQX6d/94c4jZw89ya2JOInBgr9sTnXQS20GOKM5m5V6Y29w/jla97mFGAdSZVBLJAXzGKxN1H3ecmZWB2pYkqrhSfmW8gcS1wYXFF8ypnLJKxOEw==",
    r#"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
    r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" "#,
    r#"Location="http://127.0.0.1:9/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
);

/// The longest value put in a path or a query (an address must stay under 64 kB).
pub const MAX_IN_ADDRESS: usize = 50_000;

/// Percent-encodes every byte but the unreserved ones: safe in a path segment, a query or a form.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A value as a JSON string, bytes that are not UTF-8 left raw (which makes the body invalid
/// JSON, as a hostile client would send it).
pub fn json_string(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(s) => serde_json::to_vec(s).unwrap(),
        Err(_) => [b"\"".as_slice(), bytes, b"\""].concat(),
    }
}
