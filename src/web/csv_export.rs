//! CSV downloads (the audit log, the credentials inventory): one rule for cells a spreadsheet
//! would run, and one shape of answer.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::error::AppError;

/// A cell a spreadsheet would read as a formula (a leading `=`, `+`, `-` or `@`) gets a
/// leading `'`, so it stays text.
pub fn safe_cell(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s
    }
}

/// The written CSV as a download named `filename`, never cached.
pub fn attachment(out: csv::Writer<Vec<u8>>, filename: &str) -> Result<HttpResponse, AppError> {
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
