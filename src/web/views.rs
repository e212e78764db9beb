//! Small view models and formatting shared by pages.

use chrono::NaiveDateTime;

/// One credential in a list: a PAT or a Platform API Key.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub last_used_ip: String,
    pub status: &'static str,
}

pub fn fmt_time(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".into())
}

pub fn fmt_date(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into())
}
